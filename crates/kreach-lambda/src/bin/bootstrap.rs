//! The Lambda function's entry point (`bootstrap` for the provided.al2023 runtime).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(lambda_runtime::service_fn(kreach_lambda::function)).await
}
