import { Module } from '@nestjs/common';
import { LongLinkModule } from 'longlink';
import { DeviceHandlers } from './device.handlers';
import { DevicesController } from './devices.controller';

@Module({
  // Unset options come from the environment (TCP_PORT, ADMIN_TOKEN, …) as for the CLI.
  imports: [LongLinkModule.forRoot()],
  controllers: [DeviceHandlers, DevicesController],
})
export class AppModule {}
