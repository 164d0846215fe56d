import { ArgumentMetadata, BadRequestException, Inject, Injectable, PipeTransform } from '@nestjs/common';
import { LimitHits } from '../admission/limit-hits';
import { withinDepth } from '../common/json-bounds';
import { LONGLINK_CONFIG, LongLinkConfig } from '../config';

/**
 * Refuses an admin request body nested deeper than MAX_JSON_DEPTH with a
 * 400, before validation: class-transformer and class-validator walk a body
 * recursively, so a 15,000-deep one used to overflow the stack there (500).
 * JSON.parse itself is iterative in V8 and the body size is bounded by the
 * body parser, so this walk (iterative too) is the first thing that must look.
 */
@Injectable()
export class JsonDepthPipe implements PipeTransform {
  constructor(
    @Inject(LONGLINK_CONFIG) private readonly config: LongLinkConfig,
    private readonly hits: LimitHits,
  ) {}

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body') return value;
    const max = this.config.limits.maxJsonDepth;
    if (!withinDepth(value, max)) {
      this.hits.hit('http_body_depth');
      throw new BadRequestException(`request body nests deeper than MAX_JSON_DEPTH (${max})`);
    }
    return value;
  }
}
