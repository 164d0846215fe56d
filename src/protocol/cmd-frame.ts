/**
 * The body of a CMD frame (docs/PROTOCOL.md §2: `id`, `name`, `data?`,
 * `expiresAt`) serialised in parts: a broadcast serialises name and data
 * once for all its clients, and only the id differs per frame.
 */
export interface CmdBody {
  nameJson: string;
  /** undefined: no `data` field (as JSON.stringify leaves out an undefined value). */
  dataJson: string | undefined;
  expiresAt: number;
}

export function cmdBody(name: string, data: unknown, expiresAt: number): CmdBody {
  return { nameJson: JSON.stringify(name), dataJson: data === undefined ? undefined : JSON.stringify(data), expiresAt };
}

/**
 * The frame's JSON with the type under `typeKey`: byte for byte what
 * JSON.stringify of `{type, id, name, data, expiresAt}` writes, so a client
 * sees the same frame whichever path sent it.
 */
export function cmdJson(typeKey: 'type' | 'code', id: string, body: CmdBody): string {
  const data = body.dataJson === undefined ? '' : `,"data":${body.dataJson}`;
  return `{"${typeKey}":"CMD","id":${JSON.stringify(id)},"name":${body.nameJson}${data},"expiresAt":${body.expiresAt}}`;
}

/** Every command id is a UUID: 36 ASCII characters. */
const ID_PLACEHOLDER = '00000000-0000-0000-0000-000000000000';

/** UTF-8 bytes of the frame's JSON (what MAX_FRAME_BYTES bounds); the same for every id and either type key. */
export function cmdFrameBytes(body: CmdBody): number {
  return Buffer.byteLength(cmdJson('type', ID_PLACEHOLDER, body));
}
