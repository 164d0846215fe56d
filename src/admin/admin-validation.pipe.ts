import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

/** `filter.status must be one of …` for nested fields too. */
export function flattenValidationErrors(errors: ValidationError[], prefix = ''): string[] {
  const out: string[] = [];
  for (const error of errors) {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    for (const text of Object.values(error.constraints ?? {})) {
      // class-validator names the property itself; put the full path in its place.
      out.push(prefix && text.startsWith(error.property) ? `${path}${text.slice(error.property.length)}` : text);
    }
    if (error.children?.length) out.push(...flattenValidationErrors(error.children, path));
  }
  return out;
}

/**
 * The admin API's validation: unknown fields are refused (a typo such as
 * `ttl` for `ttlMs` must not pass silently), values converted to the DTO
 * types, and every problem named by its field in one 400 message.
 */
export function adminValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    // One problem per field: a missing name is 'name must be a string', not also 'too long' and 'empty'.
    stopAtFirstError: true,
    transform: true,
    exceptionFactory: (errors) => new BadRequestException(flattenValidationErrors(errors).join('; ')),
  });
}
