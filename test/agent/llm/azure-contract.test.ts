import { chatModelContract } from './contract.ts';
import { openaiHarness } from './openai-harness.ts';

// The OpenAI adapter again, in its other wire dialect: deployment path, api-version, api-key header.
chatModelContract('azure', () => openaiHarness('azure'));
