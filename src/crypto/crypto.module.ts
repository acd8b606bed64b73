import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { CredentialSealer } from './credential-sealer.js';
import { TokenCipher } from './token-cipher.js';

@Global()
@Module({
  providers: [
    {
      provide: TokenCipher,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => TokenCipher.create(config.encryptionKeys),
    },
    CredentialSealer,
  ],
  exports: [TokenCipher, CredentialSealer],
})
export class CryptoModule {}
