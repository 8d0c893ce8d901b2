//! The account's budgets through the AWS SDK, with the `[aws]` settings and the request
//! meter (Budgets requests are free): who the caller is, its budgets with their
//! notifications, subscribers and tags, and the write calls of a plan.

use super::calls::{Call, MANAGED_TAG};
use super::convert::{from_aws, notification_to_aws, subscriber_to_aws, to_aws};
use super::spec::Budget;
use crate::aws::{AwsConfig, Meter, describe};
use anyhow::{Context, Result, anyhow};
use aws_sdk_budgets::Client;
use aws_sdk_budgets::types as aws;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::sync::Arc;

/// Budgets is a global service, served from us-east-1.
const REGION: &str = "us-east-1";
/// Budgets a DescribeBudgets page holds (AWS's default).
const PAGE: i32 = 100;

/// An account's budgets, reached with the caller's credentials.
pub struct Account {
    client: Client,
    /// The 12-digit account id.
    pub id: String,
    /// The ARN partition (`aws`, `aws-cn`, ...).
    partition: String,
}

impl Account {
    /// Connects as the `[aws]` settings say (failing with instructions when there are no
    /// credentials) and asks STS which account that is.
    pub async fn connect(settings: &AwsConfig, meter: &Arc<Meter>) -> Result<Self> {
        let sdk = crate::aws::sdk_config(settings, Some(REGION), None).await?;
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&sdk)
                .interceptor(meter.interceptor(|_| 0.0))
                .build(),
        );
        let who = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| anyhow!(describe("STS GetCallerIdentity", &e)))?;
        let id = who
            .account()
            .context("STS GetCallerIdentity gave no account id")?
            .to_string();
        let partition = (who.arn().and_then(|arn| arn.split(':').nth(1)))
            .unwrap_or("aws")
            .to_string();
        let client = Client::from_conf(
            aws_sdk_budgets::config::Builder::from(&sdk)
                .interceptor(meter.interceptor(|_| 0.0))
                .build(),
        );
        Ok(Self {
            client,
            id,
            partition,
        })
    }

    /// Every budget of the account (DescribeBudgets, page by page).
    pub async fn list(&self) -> Result<Vec<aws::Budget>> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .describe_budgets()
                .account_id(&self.id)
                .max_results(PAGE)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| failure("DescribeBudgets", "budgets:ViewBudget", e))?;
            out.extend(page.budgets().iter().cloned());
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// A budget of [`Account::list`] with its notifications and subscribers, as costwatch
    /// reads it (`Err` inside: what costwatch does not manage about it).
    pub async fn read(&self, budget: &aws::Budget) -> Result<Result<Budget, String>> {
        let name = budget.budget_name();
        let mut notifications = Vec::new();
        for n in self.notifications(name).await? {
            let subscribers = self.subscribers(name, &n).await?;
            notifications.push((n, subscribers));
        }
        Ok(from_aws(budget, &notifications))
    }

    /// Whether a budget carries the [`MANAGED_TAG`] (ListTagsForResource).
    pub async fn managed(&self, name: &str) -> Result<bool> {
        let tags = self
            .client
            .list_tags_for_resource()
            .resource_arn(self.arn(name))
            .send()
            .await
            .map_err(|e| failure("ListTagsForResource", "budgets:ListTagsForResource", e))?;
        Ok(tags.resource_tags().iter().any(|t| t.key() == MANAGED_TAG))
    }

    /// Makes one write call; the error says what failed and, for a missing permission,
    /// which IAM action is needed.
    pub async fn make(&self, call: &Call) -> Result<()> {
        let c = &self.client;
        let id = &self.id;
        let op = call.operation();
        let iam = call.iam_actions();
        match call {
            Call::CreateBudget { budget, origin } => {
                let mut request = c
                    .create_budget()
                    .account_id(id)
                    .budget(to_aws(budget)?)
                    .resource_tags(
                        aws::ResourceTag::builder()
                            .key(MANAGED_TAG)
                            .value(origin.as_str())
                            .build()?,
                    );
                for n in &budget.notifications {
                    let mut with = aws::NotificationWithSubscribers::builder()
                        .notification(notification_to_aws(n)?);
                    for s in &n.subscribers {
                        with = with.subscribers(subscriber_to_aws(s)?);
                    }
                    request = request.notifications_with_subscribers(with.build()?);
                }
                request.send().await.map_err(|e| failure(op, iam, e))?;
            }
            Call::UpdateBudget { budget } => {
                c.update_budget()
                    .account_id(id)
                    .new_budget(to_aws(budget)?)
                    .send()
                    .await
                    .map_err(|e| failure(op, iam, e))?;
            }
            Call::DeleteBudget { name } => {
                c.delete_budget()
                    .account_id(id)
                    .budget_name(name)
                    .send()
                    .await
                    .map_err(|e| failure(op, iam, e))?;
            }
            Call::CreateNotification {
                budget,
                notification,
            } => {
                let mut request = c
                    .create_notification()
                    .account_id(id)
                    .budget_name(budget)
                    .notification(notification_to_aws(notification)?);
                for s in &notification.subscribers {
                    request = request.subscribers(subscriber_to_aws(s)?);
                }
                request.send().await.map_err(|e| failure(op, iam, e))?;
            }
            Call::UpdateNotification { budget, old, new } => {
                c.update_notification()
                    .account_id(id)
                    .budget_name(budget)
                    .old_notification(notification_to_aws(old)?)
                    .new_notification(notification_to_aws(new)?)
                    .send()
                    .await
                    .map_err(|e| failure(op, iam, e))?;
            }
            Call::DeleteNotification {
                budget,
                notification,
            } => {
                c.delete_notification()
                    .account_id(id)
                    .budget_name(budget)
                    .notification(notification_to_aws(notification)?)
                    .send()
                    .await
                    .map_err(|e| failure(op, iam, e))?;
            }
            Call::CreateSubscriber {
                budget,
                notification,
                subscriber,
            } => {
                c.create_subscriber()
                    .account_id(id)
                    .budget_name(budget)
                    .notification(notification_to_aws(notification)?)
                    .subscriber(subscriber_to_aws(subscriber)?)
                    .send()
                    .await
                    .map_err(|e| failure(op, iam, e))?;
            }
            Call::DeleteSubscriber {
                budget,
                notification,
                subscriber,
            } => {
                c.delete_subscriber()
                    .account_id(id)
                    .budget_name(budget)
                    .notification(notification_to_aws(notification)?)
                    .subscriber(subscriber_to_aws(subscriber)?)
                    .send()
                    .await
                    .map_err(|e| failure(op, iam, e))?;
            }
        }
        Ok(())
    }

    /// A budget's notifications (DescribeNotificationsForBudget, page by page).
    async fn notifications(&self, name: &str) -> Result<Vec<aws::Notification>> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .describe_notifications_for_budget()
                .account_id(&self.id)
                .budget_name(name)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| failure("DescribeNotificationsForBudget", "budgets:ViewBudget", e))?;
            out.extend(page.notifications().iter().cloned());
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// A notification's subscribers (DescribeSubscribersForNotification, page by page).
    async fn subscribers(
        &self,
        name: &str,
        notification: &aws::Notification,
    ) -> Result<Vec<aws::Subscriber>> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .describe_subscribers_for_notification()
                .account_id(&self.id)
                .budget_name(name)
                .notification(notification.clone())
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| {
                    failure(
                        "DescribeSubscribersForNotification",
                        "budgets:ViewBudget",
                        e,
                    )
                })?;
            out.extend(page.subscribers().iter().cloned());
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// `arn:aws:budgets::ACCOUNT:budget/NAME`.
    fn arn(&self, name: &str) -> String {
        format!("arn:{}:budgets::{}:budget/{name}", self.partition, self.id)
    }
}

/// An SDK error told briefly; a refused permission names the IAM action it needs.
fn failure<E>(operation: &str, iam: &str, e: SdkError<E, HttpResponse>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let told = describe(&format!("Budgets {operation}"), &e);
    let denied = matches!(
        e.code(),
        Some("AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation")
    );
    if denied {
        anyhow!("{told}; the identity costwatch runs as needs {iam} (README: Budgets)")
    } else {
        anyhow!(told)
    }
}
