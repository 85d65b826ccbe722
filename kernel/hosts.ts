/**
 * Hosts the service never connects to on a user's behalf (a `repo_url` to
 * clone, a profile's `base_url`): link-local addresses, where cloud metadata
 * services answer with the machine's credentials (169.254.169.254,
 * fd00:ec2::254, `metadata.google.internal`), and the unspecified address.
 * Loopback stays allowed: a local model server (Ollama on 127.0.0.1:11434)
 * is a common, deliberate choice. Names are checked as written; a name that
 * resolves to such an address is refused at connect time by nothing here
 * (the sandbox's network policy is where that belongs).
 */
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);

/** Why the host may not be reached, or null when it may. `host` as URL.hostname gives it (IPv6 in brackets). */
export function forbiddenHost(host: string): string | null {
  const h = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (METADATA_NAMES.has(h)) return 'is a cloud metadata service';
  const v4 = ipv4(h);
  if (v4) {
    if (v4[0] === 169 && v4[1] === 254)
      return 'is a link-local address (cloud metadata lives there)';
    if (v4.every((b) => b === 0)) return 'is the unspecified address 0.0.0.0';
    if (v4[0] === 100 && v4[1] === 100 && v4[2] === 100 && v4[3] === 200)
      return 'is a cloud metadata service';
    return null;
  }
  if (h.includes(':')) {
    if (/^fe[89ab][0-9a-f]?:/.test(h)) return 'is a link-local address';
    if (h === '::' || /^0*(:0*)*$/.test(h)) return 'is the unspecified address ::';
    if (/^fd00:ec2::254$/.test(h)) return 'is a cloud metadata service';
    // IPv4 mapped into IPv6: the IPv4 rules.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h)?.[1];
    if (mapped) return forbiddenHost(mapped);
    // … and as URL parsing writes it: ::ffff:a9fe:a9fe.
    const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
    if (hex) {
      const [hi, lo] = [Number.parseInt(hex[1]!, 16), Number.parseInt(hex[2]!, 16)];
      return forbiddenHost(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
    }
  }
  return null;
}

/** The four bytes of a dotted IPv4 address (also the forms URL parsing normalises to), or null. */
function ipv4(h: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  if (!m) return null;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? bytes : null;
}

/**
 * Whether a host is on this machine or a private network, written as an
 * address (or `localhost`): 127.0.0.0/8, ::1, 10/8, 172.16/12, 192.168/16,
 * 100.64/10 (carrier-grade NAT), fc00::/7. A user may point a clone or a
 * model at such a host (a local Ollama, a Gitea on the LAN), so failures
 * there are told in one sentence whatever went wrong: refused, reset, not
 * the protocol, an answer that is not the service's: otherwise the answer
 * would tell the user which ports of this network are open.
 */
export function isInternalHost(host: string): boolean {
  const h = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const v4 = ipv4(h);
  if (v4) {
    const [a = 0, b = 0] = v4;
    return (
      a === 127 ||
      a === 10 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (h.includes(':')) {
    if (h === '::1' || /^0*(:0*)*:0*1$/.test(h)) return true;
    if (/^f[cd][0-9a-f]{0,2}:/.test(h)) return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h)?.[1];
    if (mapped) return isInternalHost(mapped);
    const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
    if (hex) {
      const [hi, lo] = [Number.parseInt(hex[1]!, 16), Number.parseInt(hex[2]!, 16)];
      return isInternalHost(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
    }
  }
  return false;
}
