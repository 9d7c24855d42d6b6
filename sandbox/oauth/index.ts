export { createOAuthDouble, type ClientSecretSummary, type OAuthDouble } from './oauth-double';
