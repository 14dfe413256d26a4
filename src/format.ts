// Human formatting shared by the CLI and the action's job summary.
import type { RefChanges } from './types.ts';

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** "3 (1 added, 2 force-updated)" or "0". */
export function describeChanges(c: RefChanges): string {
  const total = c.added.length + c.updated.length + c.forceUpdated.length + c.deleted.length;
  if (total === 0) return '0';
  const parts = [
    c.added.length ? `${c.added.length} added` : '',
    c.updated.length ? `${c.updated.length} updated` : '',
    c.forceUpdated.length ? `${c.forceUpdated.length} force-updated` : '',
    c.deleted.length ? `${c.deleted.length} deleted` : '',
  ].filter(Boolean);
  return `${total} (${parts.join(', ')})`;
}
