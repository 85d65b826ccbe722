/** The diff the scripted agent produces for a goal: what an undisturbed run returns. */
export function expectedDiff(goal: string): string {
  const lines = goal.split('\n').filter((l) => l.trim() !== '');
  return `--- a/CHANGES.md\n+++ b/CHANGES.md\n@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}`).join('\n')}\n`;
}

/** How many times `needle` occurs in `text`. */
export function occurrences(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}
