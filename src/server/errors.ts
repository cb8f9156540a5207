import type { SigningError } from '../signing/index.js';

import { errorStatus, problemParams, type ErrorCode } from './error-codes.js';

export { errorCodes, errorStatus, problemParams, type ErrorCode } from './error-codes.js';

export interface FieldProblem {
  /** Dotted path of the offending field, e.g. `body.parentId`. */
  field: string;
  message: string;
}

type ParamCode = keyof typeof problemParams;
type ParamsOf<C extends ParamCode> = { [K in (typeof problemParams)[C][number]]: string | number };
type Details = { errors?: FieldProblem[]; [key: string]: unknown };

export class AppError<C extends ErrorCode = ErrorCode> extends Error {
  readonly status: number;
  readonly details: Details;
  constructor(
    readonly code: C,
    message: string,
    ...[details]: C extends ParamCode ? [Details & ParamsOf<C>] : [Details?]
  ) {
    super(message);
    this.name = 'AppError';
    this.status = errorStatus[code];
    this.details = details ?? {};
  }
}

export function notFound(code: Extract<ErrorCode, `${string}_not_found`>, id: string): AppError {
  const what = code.slice(0, -'_not_found'.length).replace(/_/g, ' ');
  return new AppError(code, `No ${what} with id ${id} exists or it is outside what you may see.`);
}

export function forbidden(message = 'You may not do this.'): AppError {
  return new AppError('forbidden', message);
}

/**
 * A failure of the signing engine as the error it is at the HTTP edge: the same code, message and
 * details. Every code the engine throws is one of the catalogue's: the assignment below does not
 * compile otherwise.
 */
export function fromSigningError(error: SigningError): AppError {
  const code: ErrorCode = error.code;
  return new AppError(code, error.message, error.details);
}
