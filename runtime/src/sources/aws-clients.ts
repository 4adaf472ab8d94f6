import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * The AWS clients of the users sources, built here so code outside sources/ and
 * main.ts never imports the SDK. Region and credentials come from the SDK's usual
 * chain (the task role on ECS; AWS_ENDPOINT_URL_SECRETS_MANAGER works for a local
 * Secrets Manager).
 */
export function newSecretsClient(): SecretsManagerClient {
  return new SecretsManagerClient({});
}

/** `endpoint`: DYNAMODB_ENDPOINT, a local DynamoDB (dynalite); undefined on AWS. */
export function newDynamoClient(endpoint: string | undefined): DynamoDBClient {
  return new DynamoDBClient(endpoint === undefined ? {} : { endpoint });
}
