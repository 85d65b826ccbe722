import { chatModelContract } from './contract.ts';
import { openaiHarness } from './openai-harness.ts';

chatModelContract('openai', () => openaiHarness('openai'));
