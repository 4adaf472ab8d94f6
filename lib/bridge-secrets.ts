import { RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** What a new users secret holds until the operator adds partners. */
export const EMPTY_USERS_DOCUMENT = '{"users":[]}';
/** What a new TLS secret holds until the operator puts the certificate chain and key in. */
export const EMPTY_TLS_DOCUMENT = '{"certificate":"","privateKey":""}';

export interface BridgeSecretsProps {
  /**
   * Complete ARN of an existing users secret (SecretString: the users JSON).
   * @default - a new secret holding {"users":[]}
   */
  readonly usersSecretArn?: string;
  /**
   * ARN of the customer managed KMS key the existing users secret is encrypted with.
   * @default - the AWS managed key of Secrets Manager (nothing to grant)
   */
  readonly usersSecretKmsKeyArn?: string;
  /**
   * Whether the deployment uses TLS at all (tlsMode other than off).
   * @default true
   */
  readonly tlsEnabled?: boolean;
  /**
   * Complete ARN of an existing TLS secret (SecretString: {"certificate": PEM chain, "privateKey": PEM key}).
   * @default - a new secret with empty values, to be filled by the operator
   */
  readonly tlsSecretArn?: string;
  /**
   * ARN of the customer managed KMS key the existing TLS secret is encrypted with.
   * @default - the AWS managed key of Secrets Manager (nothing to grant)
   */
  readonly tlsSecretKmsKeyArn?: string;
}

/**
 * The users document and the TLS certificate in Secrets Manager. The runtime re-reads both
 * periodically, so adding a partner or rotating the certificate needs no restart. Secrets the
 * stack creates are retained when it is deleted: they hold partner credentials.
 */
export class BridgeSecrets extends Construct {
  readonly usersSecret: secretsmanager.ISecret;
  /** undefined when TLS is off. */
  readonly tlsSecret: secretsmanager.ISecret | undefined;
  /** The customer managed keys the secrets are encrypted with, each once: the reader needs kms:Decrypt on them. */
  readonly encryptionKeys: readonly kms.IKey[];

  constructor(scope: Construct, id: string, props: BridgeSecretsProps = {}) {
    super(scope, id);
    if (props.usersSecretKmsKeyArn !== undefined && props.usersSecretArn === undefined) {
      throw new Error('BridgeSecrets: usersSecretKmsKeyArn applies to an existing users secret only; set usersSecretArn too');
    }
    if (props.tlsSecretKmsKeyArn !== undefined && props.tlsSecretArn === undefined) {
      throw new Error('BridgeSecrets: tlsSecretKmsKeyArn applies to an existing TLS secret only; set tlsSecretArn too');
    }
    this.usersSecret =
      props.usersSecretArn !== undefined
        ? secretsmanager.Secret.fromSecretCompleteArn(this, 'Users', props.usersSecretArn)
        : new secretsmanager.Secret(this, 'Users', {
            description: 'FTP bridge users: {"users":[{"username","passwordHash","home","permissions","allowFrom"}]}',
            // A placeholder, not a credential: the operator replaces it with the real users document.
            secretStringValue: SecretValue.unsafePlainText(EMPTY_USERS_DOCUMENT),
            removalPolicy: RemovalPolicy.RETAIN,
          });
    if (props.tlsEnabled === false) {
      this.tlsSecret = undefined;
    } else if (props.tlsSecretArn !== undefined) {
      this.tlsSecret = secretsmanager.Secret.fromSecretCompleteArn(this, 'Tls', props.tlsSecretArn);
    } else {
      this.tlsSecret = new secretsmanager.Secret(this, 'Tls', {
        description: 'FTP bridge TLS: {"certificate":"<PEM chain>","privateKey":"<PEM key>"}',
        secretStringValue: SecretValue.unsafePlainText(EMPTY_TLS_DOCUMENT),
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }
    const keyArns = [props.usersSecretKmsKeyArn, this.tlsSecret === undefined ? undefined : props.tlsSecretKmsKeyArn].filter(
      (arn): arn is string => arn !== undefined,
    );
    this.encryptionKeys = [...new Set(keyArns)].map((arn, index) => kms.Key.fromKeyArn(this, `Key${index + 1}`, arn));
  }
}
