/**
 * Reads a directory tree of text files on Node and on Deno through one
 * function: the web UI's files are read once, when the app is built, and
 * served from memory.
 */

interface DenoFs {
  readDir(path: URL): AsyncIterable<{ name: string; isFile: boolean; isDirectory: boolean }>;
  readTextFile(path: URL): Promise<string>;
}

interface Entry {
  name: string;
  kind: 'file' | 'dir' | 'other';
}

interface FileSystem {
  list(dir: URL): Promise<Entry[]>;
  read(file: URL): Promise<string>;
}

async function fileSystem(): Promise<FileSystem> {
  const deno = (globalThis as { Deno?: DenoFs }).Deno;
  if (deno) {
    return {
      list: async (dir) => {
        const entries: Entry[] = [];
        for await (const e of deno.readDir(dir))
          entries.push({ name: e.name, kind: e.isFile ? 'file' : e.isDirectory ? 'dir' : 'other' });
        return entries;
      },
      read: (file) => deno.readTextFile(file),
    };
  }
  const fs = await import('node:fs/promises');
  return {
    list: async (dir) =>
      (await fs.readdir(dir, { withFileTypes: true })).map((e) => ({
        name: e.name,
        kind: e.isFile() ? 'file' : e.isDirectory() ? 'dir' : 'other',
      })),
    read: (file) => fs.readFile(file, 'utf8'),
  };
}

/**
 * Every file under `dir` (a `file:` URL ending in `/`) whose name passes
 * `keep`, by its path relative to `dir` with `/` separators. Dot files and
 * symbolic links are skipped, so nothing outside the tree can be read.
 */
export async function readTextTree(
  dir: URL,
  keep: (name: string) => boolean = () => true,
): Promise<Map<string, string>> {
  const fs = await fileSystem();
  const files = new Map<string, string>();
  const walk = async (at: URL, prefix: string): Promise<void> => {
    for (const entry of await fs.list(at)) {
      if (entry.name.startsWith('.')) continue;
      if (entry.kind === 'dir')
        await walk(new URL(`${encodeURIComponent(entry.name)}/`, at), `${prefix}${entry.name}/`);
      else if (entry.kind === 'file' && keep(entry.name))
        files.set(
          `${prefix}${entry.name}`,
          await fs.read(new URL(encodeURIComponent(entry.name), at)),
        );
    }
  };
  await walk(dir, '');
  return files;
}
