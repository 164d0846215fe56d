import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ADMIN_BEARER } from './admin-route.decorator';

/** Where the OpenAPI UI is served (`/docs`; the JSON at `/docs-json` and, as before, `/docs/json`). */
export const DOCS_PATH = 'docs';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

/**
 * Operation ids a client generator turns into method names. Routes name
 * theirs with `@ApiOperation({ operationId })`; one that does not gets
 * `<method><Controller>` (`readyHealth`) rather than Nest's
 * `HealthController_ready`, which generators turn into `healthControllerReady`.
 */
function operationId(controllerKey: string, methodKey: string): string {
  return methodKey + controllerKey.replace(/Controller$/, '');
}

/**
 * The OpenAPI description of the admin API as this app serves it (routes
 * under a RouterModule prefix appear with it). It lints clean with Redocly's
 * `recommended` ruleset (redocly.yaml; test/e2e/admin/openapi-lint.e2e-spec.ts).
 */
export function buildAdminDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('longlink admin API')
    .setDescription(
      'See who is online, kick clients, push commands and read their outcome, watch presence live. ' +
        'Every route but the health probes needs `Authorization: Bearer <ADMIN_TOKEN>`. ' +
        'Errors are `{statusCode, error, message}`. Wire protocol: docs/PROTOCOL.md in the repository.',
    )
    .setVersion('1')
    .setLicense('MIT', 'https://opensource.org/license/mit')
    // Relative: the document describes the server that serves it, whatever its host.
    .addServer('/', 'this gateway')
    // addBearerAuth() would add `bearerFormat: JWT`; ADMIN_TOKEN is an opaque string.
    .addSecurity(ADMIN_BEARER, { type: 'http', scheme: 'bearer', description: 'The ADMIN_TOKEN of the gateway' })
    .build();
  const document = SwaggerModule.createDocument(app, config, { operationIdFactory: operationId });
  // A route without a requirement of its own is public (the health probes):
  // say so with `security: []` rather than leave a reader to guess.
  for (const item of Object.values(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (operation && !operation.security) operation.security = [];
    }
  }
  return document;
}

/**
 * Mounts the OpenAPI description of the admin API: the UI at `/<path>`, the
 * JSON at `/<path>-json` (Nest's usual place, where tools look) and at
 * `/<path>/json`. Public (it describes, it holds no data); every route it
 * lists but the health probes needs the bearer token. An app embedding
 * LongLinkModule calls this on its own app.
 */
export function setupAdminDocs(app: INestApplication, path = DOCS_PATH): OpenAPIObject {
  const document = buildAdminDocument(app);
  SwaggerModule.setup(path, app, document, { jsonDocumentUrl: `${path}-json` });
  app.getHttpAdapter().get(`/${path}/json`, (_req: unknown, res: { json(body: unknown): void }) => res.json(document));
  return document;
}
