/** E-mail through the SESv2 API (locally: the stand-in that writes RFC 822 files to the outbox). */
import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';

export interface MailMessage {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

let client: SESv2Client | undefined;

export class Mailer {
  constructor(private readonly from: string) {}

  async send(message: MailMessage): Promise<string | undefined> {
    client ??= new SESv2Client({});
    const { MessageId } = await client.send(
      new SendEmailCommand({
        FromEmailAddress: this.from,
        Destination: { ToAddresses: [...message.to] },
        Content: {
          Simple: {
            Subject: { Data: message.subject, Charset: 'UTF-8' },
            Body: { Text: { Data: message.text, Charset: 'UTF-8' }, Html: { Data: message.html, Charset: 'UTF-8' } },
          },
        },
      }),
    );
    return MessageId;
  }
}
