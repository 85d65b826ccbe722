import { secretsSuite } from './secrets-suite.ts';

secretsSuite('redis');
