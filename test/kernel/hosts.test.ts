import { describe, expect, it } from 'vitest';
import { forbiddenHost } from '../../kernel/hosts.ts';

const hostOf = (url: string) => new URL(url).hostname;

describe('hosts the service never calls for a user', () => {
  it('refuses link-local, metadata services and the unspecified address, in the forms URL parsing gives them', () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://169.254.0.1/',
      'http://2852039166/', // 169.254.169.254 as one number
      'http://0xa9.0xfe.0xa9.0xfe/',
      'http://[fe80::1]/',
      'http://[fd00:ec2::254]/',
      'http://[::ffff:169.254.169.254]/',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://METADATA.GOOGLE.INTERNAL./',
      'http://100.100.100.200/',
      'http://0.0.0.0:8000/',
      'http://[::]/',
    ])
      expect(forbiddenHost(hostOf(url)), url).not.toBeNull();
  });

  it('allows loopback (local model servers), private networks and public names', () => {
    for (const url of [
      'http://127.0.0.1:11434',
      'http://localhost:8080/v1',
      'http://[::1]:8080',
      'http://10.0.0.5/v1',
      'https://api.openai.com/v1',
      'https://github.com/o/r.git',
    ])
      expect(forbiddenHost(hostOf(url)), url).toBeNull();
  });
});
