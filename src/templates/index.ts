// Contract templates without database or HTTP: what a template is, its two checks, the renderer
// to an A4 PDF, and the templates a new group starts with. The rest of Sigil uses them from here.
export {
  TEMPLATE_LIMITS,
  TemplateError,
  type ScalarType,
  type ScalarVariable,
  type TableColumn,
  type TableVariable,
  type TemplateProblem,
  type TemplateProblemCode,
  type TemplateSource,
  type TemplateValues,
  type TemplateVariable,
} from './template.types.js';
export { checkTemplate, checkValues } from './check.js';
export {
  renderTemplate,
  composeTemplate,
  TEMPLATE_PAGE,
  type RenderOptions,
  type RenderedTemplate,
  type TemplateSurface,
  type FontName,
} from './render.js';
export { amountInWords, formatAmount, parseAmount, type Amount } from './amount.js';
export { seedTemplates, type SeedTemplate } from './seeds.js';
