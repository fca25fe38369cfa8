//! Linli's contracts, generated from the `.proto` files beside this crate: the gRPC
//! services (`linli.<service>.v1`) and the event payloads (`linli.events.v1`).

pub mod registry {
    pub mod v1 {
        tonic::include_proto!("linli.registry.v1");
    }
}

pub mod bookings {
    pub mod v1 {
        tonic::include_proto!("linli.bookings.v1");
    }
}

pub mod evaluation {
    pub mod v1 {
        tonic::include_proto!("linli.evaluation.v1");
    }
}

pub mod finance {
    pub mod v1 {
        tonic::include_proto!("linli.finance.v1");
    }
}

pub mod volunteers {
    pub mod v1 {
        tonic::include_proto!("linli.volunteers.v1");
    }
}

pub mod json;

pub mod events {
    pub mod v1 {
        tonic::include_proto!("linli.events.v1");
    }
}

/// Every service and message, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("linli_descriptor");

/// An event payload: a protobuf message with the routing key it travels under and the full
/// message name that AMQP's `type` property carries, so a consumer can check what it got.
pub trait Event: prost::Message + Default {
    /// `<service>.<aggregate>.<verb>`, the verb in the past tense.
    const ROUTING_KEY: &'static str;
    /// The full protobuf message name, e.g. `linli.events.v1.ResidentRegistered`.
    const TYPE: &'static str;

    /// Whether the event concerns a partner's offering (it names the offering's
    /// `provider_id`). The bus routes such an event also under `partner.<routing key>`, so
    /// the consumers that serve partners bind that and never see the district's other
    /// bookings.
    fn for_partner(&self) -> bool {
        false
    }
}

impl Event for events::v1::ResidentRegistered {
    const ROUTING_KEY: &'static str = "registry.resident.registered";
    const TYPE: &'static str = "linli.events.v1.ResidentRegistered";
}

impl Event for events::v1::ResidentErased {
    const ROUTING_KEY: &'static str = "registry.resident.erased";
    const TYPE: &'static str = "linli.events.v1.ResidentErased";
}

impl Event for events::v1::ResidentConsentChanged {
    const ROUTING_KEY: &'static str = "registry.resident.consent_changed";
    const TYPE: &'static str = "linli.events.v1.ResidentConsentChanged";
}

impl Event for events::v1::ResidentCorrectionRequested {
    const ROUTING_KEY: &'static str = "registry.resident.correction_requested";
    const TYPE: &'static str = "linli.events.v1.ResidentCorrectionRequested";
}

impl Event for events::v1::ResidentCorrectionClosed {
    const ROUTING_KEY: &'static str = "registry.resident.correction_closed";
    const TYPE: &'static str = "linli.events.v1.ResidentCorrectionClosed";
}

impl Event for events::v1::CentreCreated {
    const ROUTING_KEY: &'static str = "registry.centre.created";
    const TYPE: &'static str = "linli.events.v1.CentreCreated";
}

impl Event for events::v1::ResidentMovedOut {
    const ROUTING_KEY: &'static str = "registry.resident.moved_out";
    const TYPE: &'static str = "linli.events.v1.ResidentMovedOut";
}

impl Event for events::v1::ResidentDeceased {
    const ROUTING_KEY: &'static str = "registry.resident.deceased";
    const TYPE: &'static str = "linli.events.v1.ResidentDeceased";
}

impl Event for events::v1::ResidentReturned {
    const ROUTING_KEY: &'static str = "registry.resident.returned";
    const TYPE: &'static str = "linli.events.v1.ResidentReturned";
}

impl Event for events::v1::ResidentUpdated {
    const ROUTING_KEY: &'static str = "registry.resident.updated";
    const TYPE: &'static str = "linli.events.v1.ResidentUpdated";
}

impl Event for events::v1::SessionEnded {
    const ROUTING_KEY: &'static str = "registry.session.ended";
    const TYPE: &'static str = "linli.events.v1.SessionEnded";
}

impl Event for events::v1::CentreUpdated {
    const ROUTING_KEY: &'static str = "registry.centre.updated";
    const TYPE: &'static str = "linli.events.v1.CentreUpdated";
}

impl Event for events::v1::PartnerAgreementSigned {
    const ROUTING_KEY: &'static str = "registry.partner.agreement_signed";
    const TYPE: &'static str = "linli.events.v1.PartnerAgreementSigned";
}

impl Event for events::v1::PartnerAgreementRevoked {
    const ROUTING_KEY: &'static str = "registry.partner.agreement_revoked";
    const TYPE: &'static str = "linli.events.v1.PartnerAgreementRevoked";
}

impl Event for events::v1::BookingConfirmed {
    const ROUTING_KEY: &'static str = "bookings.booking.confirmed";
    const TYPE: &'static str = "linli.events.v1.BookingConfirmed";

    fn for_partner(&self) -> bool {
        !self.provider_id.is_empty()
    }
}

impl Event for events::v1::BookingWaitlisted {
    const ROUTING_KEY: &'static str = "bookings.booking.waitlisted";
    const TYPE: &'static str = "linli.events.v1.BookingWaitlisted";
}

impl Event for events::v1::BookingCancelled {
    const ROUTING_KEY: &'static str = "bookings.booking.cancelled";
    const TYPE: &'static str = "linli.events.v1.BookingCancelled";

    fn for_partner(&self) -> bool {
        !self.provider_id.is_empty()
    }
}

impl Event for events::v1::BookingPromoted {
    const ROUTING_KEY: &'static str = "bookings.booking.promoted";
    const TYPE: &'static str = "linli.events.v1.BookingPromoted";

    fn for_partner(&self) -> bool {
        !self.provider_id.is_empty()
    }
}

impl Event for events::v1::BookingAttended {
    const ROUTING_KEY: &'static str = "bookings.booking.attended";
    const TYPE: &'static str = "linli.events.v1.BookingAttended";

    fn for_partner(&self) -> bool {
        !self.provider_id.is_empty()
    }
}

impl Event for events::v1::BookingCheckInUndone {
    const ROUTING_KEY: &'static str = "bookings.booking.check_in_undone";
    const TYPE: &'static str = "linli.events.v1.BookingCheckInUndone";
}

impl Event for events::v1::BookingNoShow {
    const ROUTING_KEY: &'static str = "bookings.booking.no_show";
    const TYPE: &'static str = "linli.events.v1.BookingNoShow";
}

impl Event for events::v1::ServiceDelivered {
    const ROUTING_KEY: &'static str = "bookings.service.delivered";
    const TYPE: &'static str = "linli.events.v1.ServiceDelivered";

    fn for_partner(&self) -> bool {
        !self.provider_id.is_empty()
    }
}

impl Event for events::v1::FeeCharged {
    const ROUTING_KEY: &'static str = "bookings.fee.charged";
    const TYPE: &'static str = "linli.events.v1.FeeCharged";
}

impl Event for events::v1::FeeRefunded {
    const ROUTING_KEY: &'static str = "bookings.fee.refunded";
    const TYPE: &'static str = "linli.events.v1.FeeRefunded";
}

impl Event for events::v1::FacilityCreated {
    const ROUTING_KEY: &'static str = "bookings.facility.created";
    const TYPE: &'static str = "linli.events.v1.FacilityCreated";
}

impl Event for events::v1::FacilityHeld {
    const ROUTING_KEY: &'static str = "bookings.facility.held";
    const TYPE: &'static str = "linli.events.v1.FacilityHeld";
}

impl Event for events::v1::FacilityReleased {
    const ROUTING_KEY: &'static str = "bookings.facility.released";
    const TYPE: &'static str = "linli.events.v1.FacilityReleased";
}

impl Event for events::v1::OfferingUpdated {
    const ROUTING_KEY: &'static str = "bookings.offering.updated";
    const TYPE: &'static str = "linli.events.v1.OfferingUpdated";
}

impl Event for events::v1::OfferingRetired {
    const ROUTING_KEY: &'static str = "bookings.offering.retired";
    const TYPE: &'static str = "linli.events.v1.OfferingRetired";
}

impl Event for events::v1::PaymentReceived {
    const ROUTING_KEY: &'static str = "finance.payment.received";
    const TYPE: &'static str = "linli.events.v1.PaymentReceived";
}

impl Event for events::v1::PaymentRefunded {
    const ROUTING_KEY: &'static str = "finance.payment.refunded";
    const TYPE: &'static str = "linli.events.v1.PaymentRefunded";
}

impl Event for events::v1::VolunteerRegistered {
    const ROUTING_KEY: &'static str = "volunteers.volunteer.registered";
    const TYPE: &'static str = "linli.events.v1.VolunteerRegistered";
}

impl Event for events::v1::VolunteerDeactivated {
    const ROUTING_KEY: &'static str = "volunteers.volunteer.deactivated";
    const TYPE: &'static str = "linli.events.v1.VolunteerDeactivated";
}

impl Event for events::v1::VolunteerReactivated {
    const ROUTING_KEY: &'static str = "volunteers.volunteer.reactivated";
    const TYPE: &'static str = "linli.events.v1.VolunteerReactivated";
}

impl Event for events::v1::ShiftCompleted {
    const ROUTING_KEY: &'static str = "volunteers.shift.completed";
    const TYPE: &'static str = "linli.events.v1.ShiftCompleted";
}

impl Event for events::v1::HoursMilestoneReached {
    const ROUTING_KEY: &'static str = "volunteers.hours.milestone_reached";
    const TYPE: &'static str = "linli.events.v1.HoursMilestoneReached";
}

impl Event for events::v1::TrainingCompleted {
    const ROUTING_KEY: &'static str = "volunteers.training.completed";
    const TYPE: &'static str = "linli.events.v1.TrainingCompleted";
}

impl Event for events::v1::CertificationExpiring {
    const ROUTING_KEY: &'static str = "volunteers.certification.expiring";
    const TYPE: &'static str = "linli.events.v1.CertificationExpiring";
}

impl Event for events::v1::StaffJoined {
    const ROUTING_KEY: &'static str = "volunteers.staff.joined";
    const TYPE: &'static str = "linli.events.v1.StaffJoined";
}

impl Event for events::v1::StaffLeft {
    const ROUTING_KEY: &'static str = "volunteers.staff.left";
    const TYPE: &'static str = "linli.events.v1.StaffLeft";
}

impl Event for events::v1::StaffQualityUpdated {
    const ROUTING_KEY: &'static str = "evaluation.staff.quality_updated";
    const TYPE: &'static str = "linli.events.v1.StaffQualityUpdated";
}

impl Event for events::v1::NoticePublished {
    const ROUTING_KEY: &'static str = "evaluation.notice.published";
    const TYPE: &'static str = "linli.events.v1.NoticePublished";
}

impl Event for events::v1::BoardMembershipChanged {
    const ROUTING_KEY: &'static str = "evaluation.board.membership_changed";
    const TYPE: &'static str = "linli.events.v1.BoardMembershipChanged";
}

impl Event for events::v1::EntryPosted {
    const ROUTING_KEY: &'static str = "finance.entry.posted";
    const TYPE: &'static str = "linli.events.v1.EntryPosted";
}

impl Event for events::v1::DonationReceived {
    const ROUTING_KEY: &'static str = "finance.donation.received";
    const TYPE: &'static str = "linli.events.v1.DonationReceived";
}

impl Event for events::v1::BudgetThresholdReached {
    const ROUTING_KEY: &'static str = "finance.budget.threshold_reached";
    const TYPE: &'static str = "linli.events.v1.BudgetThresholdReached";
}

impl Event for events::v1::PeriodClosed {
    const ROUTING_KEY: &'static str = "finance.period.closed";
    const TYPE: &'static str = "linli.events.v1.PeriodClosed";
}
