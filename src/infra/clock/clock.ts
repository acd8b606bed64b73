import { Injectable } from '@nestjs/common';

/** Time as the service sees it; tests replace it to move time without waiting. */
export abstract class Clock {
  abstract now(): Date;
}

@Injectable()
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}
