// The seal-lifecycle module's door: making a seal and the later steps of its life (变更, 移交, 停用,
// 挂失, 销毁) as applications, and what an approved step changes. Above approvals, which knows it only
// as the `lifecycle` purpose it provides.
export { isImageOfApplicationFor } from './lifecycle.repository.js';
export { lifecycleMoves } from './lifecycle.effects.js';
export type { ProductionPayload } from './lifecycle.effects.js';
export { sealLifecycleRoutes } from './lifecycle.routes.js';
export { applyForProduction, applyForStep, sealLifecyclePurpose } from './lifecycle.service.js';
