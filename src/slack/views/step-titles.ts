export { stepTitle } from '../../domain/step-titles';
