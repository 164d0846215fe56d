import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Controller, Get, NotFoundException, Param, Req, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';

/** Where the dashboard is served; its API calls are relative to it, so a global prefix works too. */
export const DASHBOARD_PATH = 'dashboard';

/**
 * Where the built page lives. Compiled, this file is dist/admin/ and the page
 * dist/dashboard/ (npm run build). Run from source (jest, ts-node) it is
 * src/admin/, whose ../dashboard holds only the .ts sources, so the built
 * copy in dist/ is the fallback.
 */
export function dashboardAssetsDir(): string | undefined {
  const candidates = [join(__dirname, '..', 'dashboard'), resolve(__dirname, '..', '..', 'dist', 'dashboard')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'app.js')));
}

/** Only the files the build makes: no directories, no dot files, nothing else on disk. */
const ASSET = /^[a-z0-9][a-z0-9._-]*\.(js|css|js\.map)$/i;

/**
 * Only the page: the page holds no data and needs no token (like /docs);
 * every call it makes goes to the admin API, which does. The CSP keeps the
 * page to its own origin: no inline script, no CDN, nothing else to call.
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

@ApiExcludeController()
@Controller(DASHBOARD_PATH)
export class DashboardController {
  private readonly dir = dashboardAssetsDir();

  @Get()
  page(@Req() req: Request, @Res() res: Response): void {
    // The page links its files as `dashboard/<file>`, relative to `/dashboard`; with a trailing
    // slash they would resolve one level too deep.
    if (req.path.endsWith('/')) return res.redirect(301, req.originalUrl.replace(/\/+(\?|$)/, '$1'));
    this.send(res, 'index.html');
  }

  @Get(':file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    if (!ASSET.test(file)) throw new NotFoundException(`no dashboard file ${file}`);
    this.send(res, file);
  }

  private send(res: Response, file: string): void {
    if (!this.dir) throw new ServiceUnavailableException('the dashboard is not built: run npm run build');
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(file, { root: this.dir, dotfiles: 'deny' }, (error) => {
      if (error && !res.headersSent) res.status(404).json({ statusCode: 404, error: 'Not Found', message: `no dashboard file ${file}` });
    });
  }
}
