// The seal-cards module's door: a seal's file card (档案卡), as JSON and as a PDF. It gathers what
// several modules keep about a seal (the seal, its grants, authorizations and uses, its history),
// so it sits above them.
export { sealCardRoutes } from './seal-card.routes.js';
export { chooseCardLanguage, exportSealCard, getSealCard } from './seal-card.service.js';
