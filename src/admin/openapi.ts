import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ADMIN_BEARER } from './admin-route.decorator';

/** Where the OpenAPI UI is served (`/docs`; the JSON at `/docs/json`). */
export const DOCS_PATH = 'docs';

/**
 * Mounts the OpenAPI description of the admin API at /docs. The page itself
 * is public (it describes, it holds no data); every route it lists needs the
 * bearer token. An app embedding LongLinkModule calls this on its own app.
 */
export function setupAdminDocs(app: INestApplication, path = DOCS_PATH): void {
  const config = new DocumentBuilder()
    .setTitle('longlink admin API')
    .setDescription(
      'See who is online, kick clients, push commands and read their outcome, watch presence live. ' +
        'Every route but /health needs `Authorization: Bearer <ADMIN_TOKEN>`. ' +
        'Errors are `{statusCode, error, message}`. Wire protocol: docs/PROTOCOL.md in the repository.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'The ADMIN_TOKEN of the gateway' }, ADMIN_BEARER)
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup(path, app, document, { jsonDocumentUrl: `${path}/json` });
}
