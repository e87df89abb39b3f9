import { pack } from 'tar-stream';

/** One entry of a small tar archive made in memory. */
export interface TarEntry {
  name: string;
  type: 'file' | 'directory';
  mode: number;
  uid: number;
  gid: number;
  content?: string;
}

/** A small tar archive (to create owned directories and files in a container without a shell as root). */
export function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const archive = pack();
  for (const e of entries) archive.entry({ name: e.name, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid }, e.content ?? '');
  archive.finalize();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    archive.on('data', (c) => chunks.push(c as Buffer));
    archive.on('end', () => resolve(Buffer.concat(chunks)));
    archive.on('error', reject);
  });
}

/** The numeric owner of an image's postgres user (ImageInfo.user is `uid:gid`). */
export function ownerIds(user: string): [number, number] {
  return user.split(':').map(Number) as [number, number];
}
