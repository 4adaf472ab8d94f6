/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy`, settings from context
 * (`-c bridge:<name>=<value>`, or the context of cdk.json / cdk.context.json; the
 * defaults are in lib/settings-schema.ts).
 */
import { App } from 'aws-cdk-lib';
import { FtpS3BridgeStack } from '../lib/ftp-s3-bridge-stack.ts';
import { SettingsError, settingsFromContext } from '../lib/settings.ts';

const app = new App();
try {
  const settings = settingsFromContext(app.node.getAllContext() as Record<string, unknown>);
  new FtpS3BridgeStack(app, settings.stackName, {
    settings,
    description: 'ftp-s3-bridge: FTP/FTPS on ECS Fargate behind a Network Load Balancer, files in S3',
    // Env-agnostic when no account is known (offline synth); the CLI sets these when it has credentials.
    env: process.env['CDK_DEFAULT_ACCOUNT'] ? { account: process.env['CDK_DEFAULT_ACCOUNT'], region: process.env['CDK_DEFAULT_REGION'] || undefined } : undefined,
  });
} catch (error) {
  if (!(error instanceof SettingsError)) throw error;
  console.error(error.message);
  process.exit(1);
}
