// The container's hardening, read from the Dockerfile and the compose file themselves (no Docker engine exists on
// the build machines). Each assertion is a promise made in docs/GITHUB_PRIVATE_BACKUP_SETUP.md.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const repoRoot = join(import.meta.dirname, '..');
const dockerfilePath = join(repoRoot, 'containers/github-private-backup/Dockerfile');
const composePath = join(repoRoot, 'docker-compose.github-backup.yml');

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** A small Dockerfile reader: comments dropped, continuation lines joined, instructions grouped by stage. */
function parseDockerfile(text: string): Instruction[][] {
  const instructions: Instruction[] = [];
  let buffer = '';
  let startLine = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line.startsWith('#') && (buffer !== '' || line !== '')) return;
    if (line === '' && buffer === '') return;
    if (buffer === '') startLine = index + 1;
    if (line.endsWith('\\')) {
      buffer += `${line.slice(0, -1)} `;
      return;
    }
    buffer += line;
    const match = /^(\S+)\s*(.*)$/s.exec(buffer.trim());
    if (match) instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: startLine });
    buffer = '';
  });
  const stages: Instruction[][] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

/** Exec form (JSON array) of CMD/ENTRYPOINT/VOLUME/HEALTHCHECK CMD. */
function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  expect(Array.isArray(parsed), `expected exec (JSON array) form, got ${args}`).toBe(true);
  return parsed as string[];
}

/** KEY=VALUE pairs of ENV / ARG / LABEL (quoted values allowed). */
function pairs(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of args.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const value = match[2]!;
    out[match[1]!] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
  }
  return out;
}

const dockerfileText = readFileSync(dockerfilePath, 'utf8');
const stages = parseDockerfile(dockerfileText);
const finalStage = stages.at(-1)!;
const all = (keyword: string, stage: Instruction[] = finalStage) => stage.filter((i) => i.keyword === keyword);
const only = (keyword: string, stage: Instruction[] = finalStage) => {
  const found = all(keyword, stage);
  expect(found, `exactly one ${keyword} in the final stage`).toHaveLength(1);
  return found[0]!;
};

const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE_KEY|API_KEY/i;
const TOKEN_VALUE = /\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}/;

describe('Dockerfile', () => {
  it('is multi-stage, and every base image is pinned to a concrete version', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      const image = stage[0]!.args.split(/\s+/)[0]!;
      expect(image, 'a tag, not an implicit latest').toMatch(/:/);
      expect(image).not.toMatch(/:latest\b/);
      // A version with at least major.minor.patch for the runtime, and at least a major for the builder.
      expect(image).toMatch(/:\d+(\.\d+)*[-@\w.]*$|@sha256:[0-9a-f]{64}$/);
    }
    const runtimeBase = finalStage[0]!.args.split(/\s+/)[0]!;
    expect(runtimeBase).toMatch(/^alpine:3\.\d+\.\d+(@sha256:[0-9a-f]{64})?$/);
  });

  it('runs the CLI on Node 24 and fails the build on any other major', () => {
    expect(all('FROM', stages[0]!)[0]!.args).toMatch(/^node:24\./);
    const check = all('RUN').find((run) => /process\.versions\.node/.test(run.args));
    expect(check?.args, 'a build-time check of the runtime Node major').toMatch(/major !== 24/);
  });

  it('ships only node, git, git-lfs, ca-certificates, tini and the bundled CLI at runtime', () => {
    const installs = all('RUN')
      .flatMap((run) => [...run.args.matchAll(/apk add((?:\s+[^&;|]+?)+)(?=\s*(?:&&|;|\||$))/g)])
      .flatMap((match) => match[1]!.trim().split(/\s+/))
      .filter((word) => !word.startsWith('-'));
    expect(installs.sort()).toEqual(['ca-certificates', 'git', 'git-lfs', 'nodejs', 'tini']);
    expect(finalStage.some((i) => /\bnpm\b/.test(i.args) && i.keyword === 'RUN')).toBe(false);
    const copies = all('COPY');
    expect(copies).toHaveLength(1);
    expect(copies[0]!.args).toMatch(/--from=build\b/);
    expect(copies[0]!.args).toMatch(/--chmod=0?755\b/);
    expect(copies[0]!.args).toMatch(/\/src\/dist\/backup-manager\.mjs\s+\/usr\/local\/bin\/backup-manager$/);
    expect(all('ADD')).toHaveLength(0);
  });

  it('creates user backup with UID/GID 1001 and runs as 1001:1001 from the end of the final stage', () => {
    const setup = all('RUN').map((i) => i.args).join('\n');
    expect(setup).toMatch(/addgroup\b[^&]*-g 1001 backup/);
    expect(setup).toMatch(/adduser\b[^&]*-u 1001 -G backup[^&]*\bbackup\b/);
    const users = all('USER');
    expect(users.map((u) => u.args)).toEqual(['1001:1001']);
    // Nothing after USER changes who runs: no RUN/COPY as root after it, and no later USER.
    const userIndex = finalStage.indexOf(users[0]!);
    const after = finalStage.slice(userIndex + 1).map((i) => i.keyword);
    expect(after).not.toContain('RUN');
    expect(after).not.toContain('COPY');
    expect(after).not.toContain('USER');
  });

  it('declares the volumes, the backup root, and owns them by backup so new named volumes inherit it', () => {
    const volumes = all('VOLUME').flatMap((v) => execForm(v.args));
    expect(volumes.sort()).toEqual(['/backup', '/backup/logs']);
    // Not one volume per directory: snapshots hard-link the mirror's objects and link(2) cannot cross mounts.
    expect(volumes).not.toContain('/backup/immutable');
    expect(volumes).not.toContain('/backup/snapshots');
    const setup = all('RUN').map((i) => i.args).join('\n');
    expect(setup).toMatch(/mkdir -p \/backup\/immutable \/backup\/snapshots \/backup\/archives \/backup\/logs \/backup\/state/);
    expect(setup).toMatch(/chown -R 1001:1001 \/backup\b/);
    const env = Object.assign({}, ...all('ENV').map((e) => pairs(e.args))) as Record<string, string>;
    expect(env.BACKUP_ROOT).toBe('/backup');
    // A schedule baked into the image would override the config file's `schedule`; the CLI has the default.
    expect(env.BACKUP_SCHEDULE).toBeUndefined();
  });

  it('checks health with backup-manager health every 30s, timeout 10s, 3 retries', () => {
    const health = only('HEALTHCHECK').args;
    expect(health).toMatch(/--interval=30s\b/);
    expect(health).toMatch(/--timeout=10s\b/);
    expect(health).toMatch(/--retries=3\b/);
    const cmd = /CMD\s+(\[.*\])$/.exec(health);
    expect(cmd).not.toBeNull();
    expect(execForm(cmd![1]!)).toEqual(['backup-manager', 'health']);
  });

  it('runs the daemon under tini', () => {
    expect(execForm(only('ENTRYPOINT').args)).toEqual(['/sbin/tini', '--']);
    expect(execForm(only('CMD').args)).toEqual(['backup-manager', 'daemon']);
  });

  it('carries OCI labels', () => {
    const labels = Object.assign({}, ...all('LABEL').map((l) => pairs(l.args))) as Record<string, string>;
    for (const key of ['title', 'description', 'version', 'licenses', 'source']) {
      expect(labels[`org.opencontainers.image.${key}`], key).toBeTruthy();
    }
  });

  it('bakes no secret into the image: no token-like ENV or ARG, no token literal anywhere', () => {
    for (const stage of stages) {
      for (const instruction of stage.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG')) {
        for (const key of Object.keys(pairs(instruction.args.includes('=') ? instruction.args : `${instruction.args}=`))) {
          expect(key, `line ${instruction.line}`).not.toMatch(SECRET_NAME);
        }
      }
      // Secrets mounted at build time would be fine, but nothing here needs one.
      expect(stage.some((i) => i.keyword === 'RUN' && /--mount=type=secret/.test(i.args))).toBe(false);
    }
    expect(dockerfileText).not.toMatch(TOKEN_VALUE);
  });

  it('copies only what the bundle needs into the build stage (never the env file or the whole checkout)', () => {
    const buildCopies = stages[0]!.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(buildCopies.length).toBeGreaterThan(0);
    for (const copy of buildCopies) {
      expect(copy).not.toMatch(/^\.\s/);
      expect(copy).not.toMatch(/\.env/);
      const sources = copy.split(/\s+/).filter((word) => !word.startsWith('--')).slice(0, -1);
      for (const source of sources) expect(existsSync(join(repoRoot, source)), `${source} exists`).toBe(true);
    }
  });
});

type Compose = {
  name?: string;
  services: Record<string, Record<string, unknown>>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, { ipam?: { config?: Array<{ subnet?: string }> } }>;
};

const composeText = readFileSync(composePath, 'utf8');
const compose = parseYaml(composeText) as Compose;
const service = compose.services['github-private-backup'] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('docker-compose.github-backup.yml', () => {
  it('defines the github-private-backup service built from the container Dockerfile', () => {
    expect(service).toBeDefined();
    expect(service.container_name).toBe('github-private-backup');
    // Locks name their holder by host: a recreated container must keep the name (docs/OPERATIONS.md "Locks").
    expect(service.hostname).toBe('github-private-backup');
    expect(service.build.context).toBe('.');
    expect(existsSync(join(repoRoot, service.build.dockerfile))).toBe(true);
    expect(service.restart).toBe('unless-stopped');
    expect(service.command).toEqual(['backup-manager', 'daemon']);
    expect(service.stop_signal).toBe('SIGTERM');
    expect(service.stop_grace_period).toBe('1m');
  });

  it('is hardened: user 1001, read-only root, tmpfs /tmp, no capabilities, no new privileges', () => {
    expect(service.user).toBe('1001:1001');
    expect(service.read_only).toBe(true);
    expect(service.tmpfs).toEqual(expect.arrayContaining([expect.stringMatching(/^\/tmp(:|$)/)]));
    expect(String(service.tmpfs.find((t: string) => t.startsWith('/tmp')))).toMatch(/noexec/);
    expect(service.cap_drop).toEqual(['ALL']);
    expect(service.cap_add).toBeUndefined();
    expect(service.privileged).not.toBe(true);
    expect(service.security_opt).toContain('no-new-privileges:true');
    expect(service.network_mode).toBeUndefined();
    expect(service.pid).toBeUndefined();
  });

  it('limits memory to 1536M (docs/OPERATIONS.md "Memory") and CPU to half a core (compose v2 and legacy keys agree)', () => {
    expect(service.deploy.resources.limits.memory).toBe('1536M');
    expect(String(service.deploy.resources.limits.cpus)).toBe('0.5');
    expect(service.mem_limit).toBe('1536M');
    expect(Number(service.cpus)).toBe(0.5);
  });

  it('mounts named volumes over every path the read-only container writes, and every image VOLUME', () => {
    const mounts = (service.volumes as Array<string | { type: string; source: string; target: string; read_only?: boolean }>).map(
      (v) => {
        if (typeof v !== 'string') return v;
        const [source, target, mode] = v.split(':');
        return { type: source!.startsWith('.') || source!.startsWith('/') ? 'bind' : 'volume', source: source!, target: target!, read_only: mode === 'ro' };
      },
    );
    const named = mounts.filter((m) => m.type === 'volume');
    expect(named.map((m) => m.target).sort()).toEqual(['/backup', '/backup/logs']);
    for (const mount of named) expect(Object.keys(compose.volumes ?? {})).toContain(mount.source);
    // Every VOLUME of the image is covered by a named volume, so Docker creates no anonymous one (which would
    // split immutable/ and snapshots/ onto different mounts again, or lose data on `docker compose down`).
    const imageVolumes = all('VOLUME').flatMap((v) => execForm(v.args));
    for (const path of imageVolumes) expect(named.map((m) => m.target)).toContain(path);
    // The configuration is mounted read-only.
    const config = mounts.find((m) => m.target === '/config/backup.config.yml');
    expect(config?.type).toBe('bind');
    expect(config?.read_only).toBe(true);
    expect(service.environment.BACKUP_CONFIG).toBe('/config/backup.config.yml');
    expect(service.environment.BACKUP_ROOT).toBe('/backup');
    // Pass-through without a default, so that the config file's schedule and retentionDays are not overridden.
    expect(service.environment.BACKUP_SCHEDULE).toBe('${BACKUP_SCHEDULE:-}');
    expect(service.environment.BACKUP_RETENTION_DAYS).toBe('${BACKUP_RETENTION_DAYS:-}');
  });

  it('attaches to the isolated backup network 172.25.0.0/16', () => {
    expect(service.networks).toEqual(['backup']);
    expect(compose.networks?.backup?.ipam?.config?.[0]?.subnet).toBe('172.25.0.0/16');
  });

  it('checks health like the image does', () => {
    expect(service.healthcheck.test).toEqual(['CMD', 'backup-manager', 'health']);
    expect(service.healthcheck.interval).toBe('30s');
    expect(service.healthcheck.timeout).toBe('10s');
    expect(service.healthcheck.retries).toBe(3);
  });

  it('takes the token from the env file, never from a literal in the compose file', () => {
    const envFiles = (service.env_file as Array<string | { path: string }>).map((e) => (typeof e === 'string' ? e : e.path));
    expect(envFiles).toEqual(['.env.github-backup']);
    const environment = service.environment as Record<string, string>;
    for (const [key, value] of Object.entries(environment)) {
      if (SECRET_NAME.test(key)) expect(value, key).toMatch(/^\$\{[A-Z_]+\}$/);
    }
    expect(environment.GITHUB_TOKEN).toBeUndefined();
    expect(composeText).not.toMatch(TOKEN_VALUE);
    expect(Object.keys(service.labels ?? {}).length).toBeGreaterThan(0);
  });

  it('keeps the env file (the token) out of git', () => {
    // `git check-ignore` exits 0 when the path is ignored.
    for (const file of ['.env.github-backup']) {
      expect(() => execFileSync('git', ['check-ignore', '--no-index', '-q', file], { cwd: repoRoot }), file).not.toThrow();
    }
  });
});
