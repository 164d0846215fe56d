import { ApiProperty } from '@nestjs/swagger';

/** `GET /health`: readiness with counts. */
export class HealthDto {
  @ApiProperty({ enum: ['ok', 'shutting_down'], description: '`ok` while serving (200), `shutting_down` from SIGTERM on (503)' })
  status!: 'ok' | 'shutting_down';
  @ApiProperty({ type: 'integer', description: 'Open long-link sockets, logged in or not' })
  connections!: number;
  @ApiProperty({ type: 'integer', description: 'Logged-in clients on this node' })
  clients!: number;
  @ApiProperty({ type: 'integer', nullable: true, description: 'The long-link listener port, null when it is not listening' })
  tcpPort!: number | null;
}
