//! An agreement's webhook over gRPC: setting it (the secret answered once), listing what
//! was sent, and sending again. The agreement's centre decides who may: its manager or a
//! district admin; an auditor reads the deliveries.

use chrono::{DateTime, Utc};
use linli_platform::auth::{Access, Caller, Role};
use linli_platform::error::{Reason, Violations};
use linli_platform::page::PageRequest;
use linli_platform::webhook;
use linli_proto::registry::v1 as pb;
use tonic::{Response, Status};
use uuid::Uuid;

use super::{RegistryApi, parse_id};
use crate::error::Error;
use crate::events::timestamp;
use crate::store::partners::{self as partners, AgreementRow};
use crate::webhooks::{self as store, DeliveryRow, covers};

const WEBHOOK_MAKERS: &[Role] = &[Role::DistrictAdmin, Role::CentreManager];
const WEBHOOK_READERS: &[Role] = &[Role::DistrictAdmin, Role::CentreManager, Role::Auditor];
/// The longest endpoint URL kept.
const URL_LIMIT: usize = 2000;

fn delivery_to_pb(row: DeliveryRow) -> pb::WebhookDelivery {
    pb::WebhookDelivery {
        id: row.id.to_string(),
        agreement_id: row.agreement_id.to_string(),
        event_id: row.event_id.to_string(),
        event_type: row.event_type,
        status: row.status,
        attempts: row.attempts,
        last_http_status: row.last_http_status.unwrap_or(0),
        next_attempt_at: Some(timestamp(row.next_attempt_at)),
        delivered_at: row.delivered_at.map(timestamp),
        created_at: Some(timestamp(row.created_at)),
    }
}

/// Whether `url` is an http(s) address with a host.
fn endpoint(url: &str) -> Result<String, Reason> {
    let url = url.trim();
    let parsed = reqwest::Url::parse(url).ok();
    match parsed {
        Some(parsed)
            if matches!(parsed.scheme(), "http" | "https")
                && parsed.host_str().is_some_and(|h| !h.is_empty())
                && url.len() <= URL_LIMIT =>
        {
            Ok(url.to_owned())
        }
        _ => Err(Reason::new(
            "webhook.url",
            "must be an http:// or https:// address",
        )),
    }
}

impl RegistryApi {
    /// The agreement named, once the caller may act on its centre: read its webhook
    /// ([`WEBHOOK_READERS`]) or change it ([`WEBHOOK_MAKERS`]).
    async fn agreement(
        &self,
        caller: &Caller,
        partner_id: &str,
        agreement_id: &str,
        access: Access,
    ) -> Result<AgreementRow, Error> {
        let allowed = match access {
            Access::Read => WEBHOOK_READERS,
            Access::Write => WEBHOOK_MAKERS,
        };
        let partner = parse_id("partner_id", partner_id)?;
        let id = parse_id("agreement_id", agreement_id)?;
        caller.require_role(access, allowed)?;
        let agreement = partners::find_agreement(&self.pool, partner, id)
            .await?
            .ok_or(Error::NotFound("agreement"))?;
        caller.authorize(agreement.centre_id, access, allowed)?;
        Ok(agreement)
    }

    pub(super) async fn set_agreement_webhook_for(
        &self,
        caller: &Caller,
        req: pb::SetAgreementWebhookRequest,
    ) -> Result<Response<pb::AgreementWebhook>, Status> {
        let agreement = self
            .agreement(caller, &req.partner_id, &req.agreement_id, Access::Write)
            .await?;
        let mut v = Violations::default();
        let url = match endpoint(&req.url) {
            Ok(url) => Some(url),
            Err(reason) => {
                v.push("url", reason);
                None
            }
        };
        if req.event_types.is_empty() {
            v.push(
                "event_types",
                Reason::new(
                    "webhook.event_types_required",
                    "name at least one event type",
                ),
            );
        }
        for (i, event_type) in req.event_types.iter().enumerate() {
            if !covers(&agreement.scopes, event_type.trim()) {
                v.push(
                    format!("event_types[{i}]"),
                    Reason::new(
                        "webhook.event_type_not_covered",
                        "is not an event type the agreement's scopes cover",
                    )
                    .with("event_type", event_type.trim()),
                );
            }
        }
        v.into_result(|| ()).map_err(Error::from)?;
        let url = url.expect("checked above");
        if agreement.revoked_at.is_some() {
            return Err(
                Error::State(Reason::new("agreement.revoked", "the agreement is revoked")).into(),
            );
        }
        let mut event_types: Vec<String> = req
            .event_types
            .iter()
            .map(|t| t.trim().to_owned())
            .collect();
        event_types.sort();
        event_types.dedup();
        let secret = webhook::new_secret();
        let row = store::set(
            &self.pool,
            agreement.id,
            &url,
            &event_types,
            &self.vault.seal(&secret),
        )
        .await
        .map_err(Error::from)?;
        tracing::info!(agreement_id = %agreement.id, "agreement webhook set");
        Ok(Response::new(pb::AgreementWebhook {
            agreement_id: row.agreement_id.to_string(),
            url: row.url,
            event_types: row.event_types,
            secret,
            updated_at: Some(timestamp(row.updated_at)),
        }))
    }

    pub(super) async fn get_agreement_webhook_for(
        &self,
        caller: &Caller,
        req: pb::GetAgreementWebhookRequest,
    ) -> Result<Response<pb::AgreementWebhook>, Status> {
        let agreement = self
            .agreement(caller, &req.partner_id, &req.agreement_id, Access::Read)
            .await?;
        let row = store::get(&self.pool, agreement.id)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(match row {
            Some(row) => pb::AgreementWebhook {
                agreement_id: row.agreement_id.to_string(),
                url: row.url,
                event_types: row.event_types,
                secret: String::new(),
                updated_at: Some(timestamp(row.updated_at)),
            },
            None => pb::AgreementWebhook {
                agreement_id: agreement.id.to_string(),
                ..Default::default()
            },
        }))
    }

    pub(super) async fn list_webhook_deliveries_for(
        &self,
        caller: &Caller,
        req: pb::ListWebhookDeliveriesRequest,
    ) -> Result<Response<pb::ListWebhookDeliveriesResponse>, Status> {
        let agreement = self
            .agreement(caller, &req.partner_id, &req.agreement_id, Access::Read)
            .await?;
        let page: PageRequest<(DateTime<Utc>, Uuid)> = PageRequest::parse(
            "registry.webhook_deliveries",
            req.page_size,
            &req.page_token,
        )
        .map_err(Error::from)?;
        let rows = store::list(&self.pool, agreement.id, page.after(), page.limit())
            .await
            .map_err(Error::from)?;
        let page = page
            .page(rows, |row| (row.created_at, row.id))
            .map(delivery_to_pb);
        Ok(Response::new(pb::ListWebhookDeliveriesResponse {
            deliveries: page.rows,
            next_page_token: page.next_page_token,
        }))
    }

    pub(super) async fn replay_webhook_deliveries_for(
        &self,
        caller: &Caller,
        req: pb::ReplayWebhookDeliveriesRequest,
    ) -> Result<Response<pb::ReplayWebhookDeliveriesResponse>, Status> {
        let agreement = self
            .agreement(caller, &req.partner_id, &req.agreement_id, Access::Write)
            .await?;
        let delivery = match req.delivery_id.trim() {
            "" => None,
            id => Some(parse_id("delivery_id", id).map_err(Error::from)?),
        };
        let since = match req.since.trim() {
            "" => None,
            text => Some(
                DateTime::parse_from_rfc3339(text)
                    .map_err(|_| Error::from(Violations::one("since", Reason::instant())))?
                    .with_timezone(&Utc),
            ),
        };
        if delivery.is_none() && since.is_none() {
            return Err(Error::from(Violations::one(
                "delivery_id",
                Reason::new(
                    "webhook.replay_what",
                    "name a delivery, or a time to replay every delivery since",
                ),
            ))
            .into());
        }
        let replayed = store::replay(&self.pool, agreement.id, delivery, since)
            .await
            .map_err(Error::from)?;
        if delivery.is_some() && replayed == 0 {
            return Err(Error::NotFound("delivery").into());
        }
        tracing::info!(agreement_id = %agreement.id, replayed, "webhook deliveries replayed");
        Ok(Response::new(pb::ReplayWebhookDeliveriesResponse {
            replayed: i32::try_from(replayed).unwrap_or(i32::MAX),
        }))
    }
}
