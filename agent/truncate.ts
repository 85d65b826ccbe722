/**
 * Cuts long tool output so a role's context stays bounded: the head and the
 * tail are kept (errors tend to be at the end, the command's start at the
 * beginning) and a marker says how much was cut, so the model knows.
 */
/** Control characters (tab and newline aside) removed: what the model sends ends up in log lines, which are text, not terminal input. */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips control characters from model text before it reaches log lines
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

export function truncateMiddle(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const marker = (cut: number) => `\n[... ${cut} characters cut ...]\n`;
  const room = Math.max(0, maxChars - marker(text.length).length);
  const head = Math.ceil(room * 0.6);
  const tail = room - head;
  const cut = text.length - head - tail;
  return text.slice(0, head) + marker(cut) + (tail > 0 ? text.slice(text.length - tail) : '');
}
