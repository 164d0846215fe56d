import { ApiProperty } from '@nestjs/swagger';

export class ErrorResponseDto {
  @ApiProperty({ example: 404, description: 'HTTP status code' })
  statusCode!: number;
  @ApiProperty({ example: 'Not Found', description: 'HTTP status text' })
  error!: string;
  @ApiProperty({ example: "client 'dev-1' is not known", description: 'What went wrong; names the field for a 400' })
  message!: string;
}
