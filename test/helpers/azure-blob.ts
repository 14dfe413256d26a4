// The part of the Azure Blob REST API the Actions toolkit's upload clients use against a signed URL: a single-shot
// Put Blob, or Put Block ... Put Block List. Shared by the artifact and cache stand-ins.
import type { ServerResponse } from 'node:http';

export const AZURE_HEADERS = (requestId: number): Record<string, string> => ({
  'x-ms-request-id': `req-${requestId}`,
  'x-ms-version': '2025-01-05',
  etag: '"0x1"',
  'last-modified': new Date().toUTCString(),
  'x-ms-request-server-encrypted': 'true',
});

/** Blocks staged per blob until their block list commits them. */
export class BlobBlocks {
  private readonly staged = new Map<string, Buffer>();

  /**
   * Answer one PUT to blob `blob`. Returns the committed bytes when this request committed the blob (Put Blob or
   * Put Block List), undefined when it only staged a block.
   */
  put(blob: string, url: URL, body: Buffer, res: ServerResponse, requestId: number): Buffer | undefined {
    const comp = url.searchParams.get('comp');
    let committed: Buffer | undefined;
    if (comp === 'block') this.staged.set(`${blob}:${url.searchParams.get('blockid')}`, body);
    else if (comp === 'blocklist') {
      const ids = [...body.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]+)<\//g)].map((m) => m[1]!);
      committed = Buffer.concat(ids.map((id) => this.staged.get(`${blob}:${id}`) ?? Buffer.alloc(0)));
    } else committed = body;
    res.writeHead(201, AZURE_HEADERS(requestId));
    res.end();
    return committed;
  }
}
