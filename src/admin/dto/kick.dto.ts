import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsOptional, Matches, ValidateNested } from 'class-validator';
import { CLIENT_ID_PATTERN, CLIENT_ID_RULE } from '../../protocol';
import { ClientFilterDto, MAX_BULK_IDS } from './client-query.dto';

/** `POST /clients/kick`: exactly one of `clientIds` or `filter`. */
export class BulkKickDto {
  @ApiPropertyOptional({ type: [String], maxItems: MAX_BULK_IDS, example: ['dev-1', 'dev-2'] })
  @IsOptional()
  @ArrayNotEmpty()
  @ArrayMaxSize(MAX_BULK_IDS)
  @Matches(CLIENT_ID_PATTERN, { each: true, message: `each value in clientIds must be ${CLIENT_ID_RULE}` })
  @IsArray()
  clientIds?: string[];

  @ApiPropertyOptional({ type: ClientFilterDto, description: 'Kick every client matching this (must not be empty)' })
  @IsOptional()
  @ValidateNested()
  @Type(() => ClientFilterDto)
  filter?: ClientFilterDto;
}

export class KickResultDto {
  @ApiProperty({ example: 'dev-1' })
  clientId!: string;
  @ApiProperty({ example: true })
  kicked!: boolean;
}

export class BulkKickResultDto {
  @ApiProperty({ description: 'Clients kicked (status now close, reason kicked)' })
  kicked!: number;
  @ApiProperty({ type: [String], description: 'Of the given clientIds, those nobody knows' })
  notFound!: string[];
}
