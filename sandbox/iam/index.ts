export { createIamDouble, type IamDouble } from './iam-double';
export type { IamKeySummary } from './iam-state';
