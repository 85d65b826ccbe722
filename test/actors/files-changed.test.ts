import { describe, expect, it } from 'vitest';
import { filesChanged } from '../../actors/session-machine.ts';

describe('files_changed', () => {
  it('lists the paths of a git diff once each, new paths for renames, in diff order', () => {
    const diff = [
      'diff --git a/src/a.js b/src/a.js',
      'index 1..2 100644',
      '--- a/src/a.js',
      '+++ b/src/a.js',
      '@@ -1 +1 @@',
      '-x',
      '+y',
      'diff --git a/new.txt b/new.txt',
      'new file mode 100644',
      '--- /dev/null',
      '+++ b/new.txt',
      'diff --git a/old name.md b/new name.md',
      'similarity index 100%',
      'rename from old name.md',
      'rename to new name.md',
      'diff --git a/gone.txt b/gone.txt',
      'deleted file mode 100644',
    ].join('\n');
    expect(filesChanged(diff)).toEqual(['src/a.js', 'new.txt', 'new name.md', 'gone.txt']);
    expect(filesChanged('')).toEqual([]);
  });
});
