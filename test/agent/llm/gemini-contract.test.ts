import { chatModelContract } from './contract.ts';
import { geminiHarness } from './gemini-harness.ts';

chatModelContract('gemini', geminiHarness);
