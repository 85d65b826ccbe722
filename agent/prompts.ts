/**
 * What each role is told. Short on purpose: the tools carry the protocol
 * (docs/agent-protocol.md); the prompts say the role's job and its ending call.
 */
import type { CodeInput, PlanInput, PlanOutput, ReviewInput } from '../actors/work-contract.ts';

export const SYSTEM = {
  planner:
    'You are the Planner of a coding agent. Explore the repository with list_files, read_file and search_code, ' +
    'then call submit_plan with a short summary and concrete, ordered steps a programmer can follow. You cannot change files.',
  programmer:
    'You are the Programmer of a coding agent. Carry out the plan in the repository: read files, change them with ' +
    'edit_file or write_file, run the tests or other checks with run_command, and call finish with a summary when the change is done. ' +
    'Leave build outputs, dependencies and other generated files out of the change: finish refuses a change over its size limit.',
  reviewer:
    'You are the Reviewer of a coding agent. Check that the change (a unified diff against the base commit) does what the goal asks, ' +
    'read files and run checks as needed, then call submit_review with approved true or false and feedback the programmer can act on.',
};

const steps = (plan: PlanOutput) =>
  plan.steps.map((s, i) => `${i + 1}. ${s.replace(/^\d+\.\s*/, '')}`).join('\n');

export function planTask(input: PlanInput): string {
  return `Goal:\n${input.goal}\n\nMake a plan for this goal in this repository.`;
}

export function codeTask(input: CodeInput): string {
  const feedback = input.feedback ? `\n\nThe reviewer asked for changes:\n${input.feedback}` : '';
  return `Goal:\n${input.goal}\n\nPlan: ${input.plan.summary}\n${steps(input.plan)}${feedback}\n\nImplement it, check it, then call finish.`;
}

export function reviewTask(input: ReviewInput): string {
  return `Goal:\n${input.goal}\n\nPlan: ${input.plan.summary}\n${steps(input.plan)}\n\nThe change:\n${input.diff || '(no change)'}\n\nReview it and call submit_review.`;
}
