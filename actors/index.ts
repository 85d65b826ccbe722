export {
  createSessionMachine,
  type SessionMachine,
  type SessionContext,
  type SessionInput,
  type SessionResult,
} from './session-machine.ts';
export { deriveStatus, derivePhase, describeSnapshot, type ShownState } from './status.ts';
export type { SessionEvent, SessionEmitted, ArmedTimer } from './events.ts';
export {
  isRetryable,
  errorMessage,
  type SessionActors,
  type WorkName,
  type CloneInput,
  type CloneOutput,
  type PlanInput,
  type PlanOutput,
  type CodeInput,
  type CodeOutput,
  type ReviewInput,
  type ReviewOutput,
} from './work-contract.ts';
