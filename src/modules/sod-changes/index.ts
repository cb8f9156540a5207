// The sod-changes module's door: proposals to change the group's separation of duties, an
// application purpose a security auditor decides (above approvals, which knows it only as that purpose).
export {
  applySodChange,
  getSodSettings,
  installSodChangeFlow,
  proposeSodChange,
  sodChangePurpose,
} from './sod-change.service.js';
export { sodChangeRoutes } from './sod-change.routes.js';
