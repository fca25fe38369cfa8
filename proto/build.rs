//! Compiles every contract in `linli/` with a vendored protoc, so a fresh machine needs no
//! system protobuf compiler.

/// The messages the gateway answers as they are, in JSON and in its OpenAPI document; `+`
/// when a request body takes it too; `<` a request message the gateway takes as a route's
/// JSON body, `?` as its query string (every member optional; the fields the path gives
/// left out with `-`). Each field is as the message has it, but: `-` left
/// out, `=` optional in a body, `?` text given as null when empty (and taken as empty
/// from null), `@` a time as RFC 3339 text in UTC to the second (null when absent), `%`
/// the same to the microsecond (records: entries, consents, journals), `!field:Enum` the
/// enum's value as its lower-case name (`recurring_care`; empty when unspecified),
/// `&field:module` as that module of `linli_proto::json` says (text in the document), `#` a
/// number given as null when 0, `~` left out when empty (a list, a text) or absent, `^` a
/// message's members as the enclosing one's, `>field:name` the field by another name. Times and names are taken as they are given. A list's
/// `next_page_token` is left out on the last page.
const JSON: &str = "
volunteers.v1.AvailabilityWindow+
volunteers.v1.Volunteer -centre_id ?resident_id ?background_checked_on @registered_at
volunteers.v1.ListVolunteersResponse
volunteers.v1.StaffMember+ -centre_id =id ?employed_until =active
volunteers.v1.ListStaffResponse
volunteers.v1.Certification+ -centre_id =id =holder_kind ?issued_on ?expires_on =expiring_announced
volunteers.v1.ListCertificationsResponse
volunteers.v1.Course+ -centre_id =id =topic
volunteers.v1.ListCoursesResponse
volunteers.v1.Completion -centre_id ?session_id
volunteers.v1.TrainingCoverage -centre_id
volunteers.v1.Opportunity+ -centre_id =id =description =required_skills =required_certifications =works_with_minors =location
volunteers.v1.ListOpportunitiesResponse
volunteers.v1.Shift -centre_id @starts_at @ends_at
volunteers.v1.ListShiftsResponse
volunteers.v1.Assignment -centre_id @checked_in_at @checked_out_at
volunteers.v1.Candidate -explanations
volunteers.v1.MatchVolunteersResponse
volunteers.v1.HourEntry -centre_id ?assignment_id ?verified_by
volunteers.v1.ListHourEntriesResponse
volunteers.v1.StaffAssignment -centre_id @starts_at @ends_at @assigned_at
volunteers.v1.ListStaffAssignmentsResponse
volunteers.v1.VolunteerHours
volunteers.v1.HoursTotals -centre_id
volunteers.v1.GroupMember+ =joined_on
volunteers.v1.CommunityGroup+ -centre_id =id =description =support_rooms =support_equipment =members
volunteers.v1.ListGroupsResponse
volunteers.v1.Score+
volunteers.v1.QualityFigures @updated_at
volunteers.v1.Review -centre_id @created_at
volunteers.v1.ListReviewsResponse
volunteers.v1.RegisterVolunteerRequest< -centre_id
volunteers.v1.UpdateVolunteerRequest< -centre_id -volunteer_id -update_mask
volunteers.v1.SetVolunteerStatusRequest< -centre_id -volunteer_id
volunteers.v1.AddStaffRequest< -centre_id
volunteers.v1.EndEmploymentRequest< -centre_id -staff_id
volunteers.v1.AddCertificationRequest< -centre_id
volunteers.v1.CreateCourseRequest< -centre_id
volunteers.v1.RecordCompletionRequest< -centre_id -course_id
volunteers.v1.CreateOpportunityRequest< -centre_id
volunteers.v1.SignUpRequest< -centre_id -shift_id
volunteers.v1.LogHoursRequest< -centre_id
volunteers.v1.VerifyHoursRequest< -centre_id -entry_id
volunteers.v1.CreateGroupRequest< -centre_id
volunteers.v1.AddGroupMemberRequest< -centre_id -group_id
volunteers.v1.CreateReviewRequest< -centre_id
volunteers.v1.AssignStaffRequest< -centre_id -offering_id -session_id -starts_at -ends_at
volunteers.v1.TrainingSession -centre_id @starts_at @ends_at
volunteers.v1.ScheduleTrainingRequest< -centre_id -course_id @starts_at @ends_at
volunteers.v1.CreateShiftRequest< -centre_id @starts_at @ends_at
volunteers.v1.CheckInRequest< -centre_id -assignment_id @at
volunteers.v1.CheckOutRequest< -centre_id -assignment_id @at
volunteers.v1.ListShiftsRequest? -centre_id @from @to
volunteers.v1.ListVolunteersRequest? -centre_id
volunteers.v1.ListStaffRequest? -centre_id
volunteers.v1.ListCertificationsRequest? -centre_id
volunteers.v1.GetTrainingCoverageRequest? -centre_id
volunteers.v1.ListOpportunitiesRequest? -centre_id
volunteers.v1.MatchVolunteersRequest? -centre_id -shift_id
volunteers.v1.ListHourEntriesRequest? -centre_id
volunteers.v1.GetHoursTotalsRequest? -centre_id
volunteers.v1.ListGroupsRequest? -centre_id
volunteers.v1.ListReviewsRequest? -centre_id
volunteers.v1.ListStaffAssignmentsRequest? -centre_id
finance.v1.Account
finance.v1.ListAccountsResponse
finance.v1.Line+ =debit_minor =credit_minor
finance.v1.JournalEntry %posted_at
finance.v1.ListEntriesResponse
finance.v1.Period -centre_id %closed_at
finance.v1.ListPeriodsResponse
finance.v1.BudgetLine -centre_id
finance.v1.BudgetExecution
finance.v1.BudgetReport -centre_id
finance.v1.Grant -centre_id
finance.v1.Donation -centre_id
finance.v1.ListDonationsResponse
finance.v1.PartnershipIncome -centre_id
finance.v1.TrialBalanceRow
finance.v1.TrialBalance -centre_id
finance.v1.SelfSufficiency
finance.v1.DistrictSelfSufficiency
finance.v1.AmountBy
finance.v1.TransparencyReport
finance.v1.AuditRecord %at
finance.v1.ListAuditTrailResponse
finance.v1.Payment -centre_id ?resident_id ?reference %recorded_at
finance.v1.PaymentRefund
finance.v1.Receivable ?resident_id
finance.v1.ListReceivablesResponse
finance.v1.ResidentExport
finance.v1.PostEntryRequest< -centre_id
finance.v1.ReverseEntryRequest< -centre_id -entry_id
finance.v1.RecordGrantRequest< -centre_id
finance.v1.RecordDonationRequest< -centre_id
finance.v1.RecordPartnershipIncomeRequest< -centre_id
finance.v1.RecordExpenseRequest< -centre_id
finance.v1.RecordPaymentRequest< -centre_id
finance.v1.RefundPaymentRequest< -centre_id -payment_id
finance.v1.GetDistrictSelfSufficiencyRequest?
finance.v1.GetBudgetReportRequest? -centre_id -fiscal_year
finance.v1.GetTransparencyReportRequest? -centre_id
finance.v1.ListEntriesRequest? -centre_id
finance.v1.ListDonationsRequest? -centre_id
finance.v1.GetTrialBalanceRequest? -centre_id
finance.v1.GetSelfSufficiencyRequest? -centre_id
finance.v1.ListAuditTrailRequest? -centre_id
finance.v1.ListReceivablesRequest? -centre_id
evaluation.v1.Kpi
evaluation.v1.CentreKpis @from @to @computed_at
evaluation.v1.DistrictKpis @computed_at
evaluation.v1.KpiPoint
evaluation.v1.KpiSeries -centre_id
evaluation.v1.QualityIndicators -centre_id -offering_id -staff_id
evaluation.v1.RebuildProjectionsResponse
evaluation.v1.Question+ =options
evaluation.v1.SurveyTemplate+ =id -centre_id
evaluation.v1.ListSurveyTemplatesResponse
evaluation.v1.Answer+ =choices =text
evaluation.v1.Invitation -centre_id ?resident_id ?delivery_id ?offering_id ?staff_id @created_at @answered_at
evaluation.v1.ListInvitationsResponse
evaluation.v1.FollowUp -centre_id ?resident_id @done_at
evaluation.v1.ListFollowUpsResponse
evaluation.v1.BoardMember+ -centre_id =id ?resident_id ?partner_id =role =committees ?ended_on ?staff_username =auditor =current
evaluation.v1.ListBoardMembersResponse
evaluation.v1.BoardAuditEntry @at
evaluation.v1.ListBoardAuditResponse
evaluation.v1.BoardDecision+ =id =meeting_id ?done_on =done =overdue
evaluation.v1.BoardMeeting+ -centre_id =id =title =agenda =minutes =attendee_ids =decisions =recorded_by
evaluation.v1.ListBoardMeetingsResponse
evaluation.v1.ListBoardDecisionsResponse
evaluation.v1.ChecklistItem+ =measure
evaluation.v1.ReviewChecklist+
evaluation.v1.OrgReviewItem ?follow_up_due_on
evaluation.v1.OrgReview -centre_id @started_at
evaluation.v1.ListOrgReviewsResponse
evaluation.v1.InspectionItem+ =note
evaluation.v1.Inspection -centre_id
evaluation.v1.ListInspectionsResponse
evaluation.v1.NoticeDraft+ =kind =publish_from @publish_from =publish_until @publish_until =pinned =audience_categories =audience_age_bands ?offering_id ?session_id
evaluation.v1.Notice -centre_id ^draft @created_at @updated_at
evaluation.v1.ListNoticesResponse
evaluation.v1.ForumPost -centre_id ?thread_id -mine ?author_id @created_at
evaluation.v1.ListForumPostsResponse
evaluation.v1.SetReviewChecklistRequest<
evaluation.v1.CreateInvitationRequest< -centre_id
evaluation.v1.SubmitResponseRequest< -centre_id -invitation_id
evaluation.v1.CreateFollowUpRequest< -centre_id
evaluation.v1.CompleteFollowUpRequest< -centre_id -follow_up_id
evaluation.v1.RecordInspectionRequest< -centre_id
evaluation.v1.SubmitSuggestionRequest< -centre_id -anonymous
evaluation.v1.MoveSuggestionRequest< -centre_id -suggestion_id
evaluation.v1.SetBoardCommitteesRequest< -centre_id -member_id
evaluation.v1.EndBoardMembershipRequest< -centre_id -member_id
evaluation.v1.CompleteBoardDecisionRequest< -centre_id -decision_id
evaluation.v1.StartOrgReviewRequest< -centre_id
evaluation.v1.ScoreOrgReviewItemRequest< -centre_id -review_id -item_key
evaluation.v1.ModerateForumPostRequest< -centre_id -post_id
evaluation.v1.GetDistrictKpisRequest?
evaluation.v1.GetCentreKpisRequest? -centre_id
evaluation.v1.GetKpiSeriesRequest? -centre_id -kpi >from_month:from >to_month:to
evaluation.v1.GetQualityIndicatorsRequest? -centre_id
evaluation.v1.ListInvitationsRequest? -centre_id
evaluation.v1.ListFollowUpsRequest? -centre_id
evaluation.v1.ListInspectionsRequest? -centre_id
evaluation.v1.ListSuggestionsRequest? -centre_id
evaluation.v1.ListBoardMembersRequest? -centre_id
evaluation.v1.ListBoardAuditRequest? -centre_id
evaluation.v1.ListBoardDecisionsRequest? -centre_id
evaluation.v1.ListNoticesRequest? -centre_id
evaluation.v1.ListForumThreadsRequest? -centre_id
evaluation.v1.ListReportedForumPostsRequest? -centre_id
registry.v1.Skill+
registry.v1.Centre
registry.v1.ListCentresResponse
registry.v1.HouseholdMember
registry.v1.Household
registry.v1.PartnerContact+ =role =phone =email
registry.v1.Partner @created_at
registry.v1.ListPartnersResponse
registry.v1.Agreement @revoked_at
registry.v1.Credential @not_after @revoked_at
registry.v1.AgreementWebhook @updated_at
registry.v1.WebhookDelivery @next_attempt_at @delivered_at @created_at
registry.v1.ListWebhookDeliveriesResponse
registry.v1.ReplayWebhookDeliveriesResponse
registry.v1.Resident &gender:crate::json::gender %registered_at ~phone ~national_id ~health_note ~household_id ~relationship
registry.v1.ListResidentsResponse
registry.v1.Consent %recorded_at ~guardian_id -delegate_id -delegate_name
registry.v1.Consents
registry.v1.CentreDetails<
registry.v1.CreateResidentRequest< -centre_id &gender:crate::json::gender
registry.v1.CreateHouseholdRequest< -centre_id
registry.v1.PlaceInHouseholdRequest< -centre_id -resident_id
registry.v1.SetResidentStatusRequest< -centre_id -id
registry.v1.GetResidentRequest? -centre_id -id
registry.v1.ListResidentsRequest? -centre_id -ids
registry.v1.CreatePartnerRequest<
registry.v1.CreateAgreementRequest< -partner_id
registry.v1.RevokeAgreementRequest< -partner_id -agreement_id
registry.v1.RegisterCredentialRequest< -partner_id
registry.v1.SetAgreementWebhookRequest< -partner_id -agreement_id
registry.v1.ReplayWebhookDeliveriesRequest< -partner_id -agreement_id
registry.v1.ListWebhookDeliveriesRequest? -partner_id -agreement_id
bookings.v1.Category
bookings.v1.ListCategoriesResponse
bookings.v1.Concession+
bookings.v1.Offering+ -centre_id =id !kind:OfferingKind =description =provider =provider_id =eligible_categories =fee_minor =currency =concessions =capacity =facility_id =staff_id =active
bookings.v1.ListOfferingsResponse
bookings.v1.Facility+ -centre_id =id =kind =opens =closes =open_days
bookings.v1.ListFacilitiesResponse
bookings.v1.Session -centre_id ?series_id @starts_at @ends_at ?facility_id
bookings.v1.ListSessionsResponse
bookings.v1.Series -centre_id ?until #count
bookings.v1.Seat @starts_at @ends_at -check_in_opens_at
bookings.v1.Booking -centre_id ?resident_id !status:BookingStatus #waitlist_position ?facility_id @starts_at @ends_at ?concession ?cancel_reason @created_at -check_in_opens_at ~promoted_resident_ids
bookings.v1.ListBookingsResponse
bookings.v1.FacilityUtilisation
bookings.v1.UtilisationReport -centre_id
bookings.v1.ResidentExport
bookings.v1.UpdateOfferingRequest< -centre_id -offering_id
bookings.v1.CreateSeriesRequest< -centre_id
bookings.v1.CheckInRequest< -centre_id -booking_id
bookings.v1.UndoCheckInRequest< -centre_id -booking_id
bookings.v1.CancelBookingRequest< -centre_id -booking_id
bookings.v1.GetUtilisationRequest? -centre_id
bookings.v1.ListOfferingsRequest? -centre_id -eligible_for !kind:OfferingKind
bookings.v1.ListSessionsRequest? -centre_id @from @to
bookings.v1.ListBookingsRequest? -centre_id !status:BookingStatus
bookings.v1.CreateSessionRequest< -centre_id @starts_at @ends_at
bookings.v1.MoveSessionRequest< -centre_id -session_id !scope:Scope @starts_at
bookings.v1.CancelSessionRequest< -centre_id -session_id !scope:Scope
bookings.v1.CreateBookingRequest< -centre_id @starts_at @ends_at
";

const NEXT_PAGE: &str =
    r#"#[serde(skip_serializing_if = "String::is_empty")] #[schema(value_type = Option<String>)]"#;
const EMPTY_AS_NULL: &str = r#"#[serde(default, with = "crate::json::empty_as_null")] #[schema(value_type = Option<String>)]"#;
const MICROS: &str =
    r#"#[serde(with = "crate::json::micros")] #[schema(value_type = Option<String>)]"#;
const ZERO_AS_NULL: &str =
    r#"#[serde(with = "crate::json::zero_as_null")] #[schema(value_type = Option<i32>)]"#;
const LEFT_OUT_WHEN_EMPTY: &str = r#"#[serde(skip_serializing_if = "crate::json::absent")]"#;
const TIME: &str = r#"#[serde(with = "crate::json::time")] #[schema(value_type = Option<String>)]"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; nothing else reads the environment here.
    unsafe { std::env::set_var("PROTOC", protoc) };
    let include = protoc_bin_vendored::include_path()?;
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);

    let protos = [
        "linli/registry/v1/registry.proto",
        "linli/bookings/v1/bookings.proto",
        "linli/evaluation/v1/evaluation.proto",
        "linli/finance/v1/finance.proto",
        "linli/events/v1/registry.proto",
        "linli/events/v1/bookings.proto",
        "linli/events/v1/evaluation.proto",
        "linli/events/v1/finance.proto",
        "linli/volunteers/v1/volunteers.proto",
        "linli/events/v1/volunteers.proto",
    ];
    let mut build = tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("linli_descriptor.bin"));
    for line in JSON.lines().filter(|l| !l.is_empty()) {
        let (message, fields) = line.split_once(' ').unwrap_or((line, ""));
        let (message, derive) = match message.split_at(message.len() - 1) {
            (m, "+") => (
                m,
                "serde::Serialize, serde::Deserialize, utoipa::ToSchema)]",
            ),
            (m, "<") => (
                m,
                "serde::Deserialize, utoipa::ToSchema)] #[serde(default)]",
            ),
            (m, "?") => (
                m,
                "serde::Deserialize, utoipa::IntoParams)] #[serde(default)] #[into_params(parameter_in = Query)]",
            ),
            _ => (message, "serde::Serialize, utoipa::ToSchema)]"),
        };
        // A query's fields are described by `param`, a body's or reply's by `schema`.
        let query = derive.contains("IntoParams");
        // A body's `#[serde(default)]` makes utoipa document each field's default as the
        // value serialized; a time (not serializable) is documented as defaulting to null.
        let body = derive.starts_with("serde::Deserialize, utoipa::ToSchema");
        let described = |attribute: &str| match (query, body) {
            (true, _) => attribute.replace("#[schema(", "#[param("),
            (_, true) if attribute == TIME => {
                attribute.replace("String>)]", "String>, default = json!(null))]")
            }
            _ => attribute.to_owned(),
        };
        let path = format!(".linli.{message}");
        build = build.type_attribute(&path, format!("#[derive({derive}"));
        if path.ends_with("Response") {
            build = build.field_attribute(format!("{path}.next_page_token"), NEXT_PAGE);
        }
        for rule in fields.split_whitespace() {
            let (kind, field) = rule.split_at(1);
            let attribute = match kind {
                "-" => "#[serde(skip)]",
                "=" => "#[serde(default)]",
                "?" => EMPTY_AS_NULL,
                "@" => TIME,
                "%" => MICROS,
                "#" => ZERO_AS_NULL,
                "~" => LEFT_OUT_WHEN_EMPTY,
                "^" => "#[serde(flatten)]",
                ">" => {
                    let (field, name) = field.split_once(':').expect(">field:name");
                    let renamed = format!(r#"#[serde(rename = "{name}")]"#);
                    build = build.field_attribute(format!("{path}.{field}"), renamed);
                    continue;
                }
                "&" => {
                    let (field, module) = field.split_once(':').expect("&field:module");
                    let with =
                        format!(r#"#[serde(with = "{module}")] #[schema(value_type = String)]"#);
                    build = build.field_attribute(format!("{path}.{field}"), described(&with));
                    continue;
                }
                "!" => {
                    let (field, enumeration) = field.split_once(':').expect("!field:Enum");
                    let package = message.rsplit_once('.').map_or("", |(p, _)| p);
                    let e = format!("crate::{}::{enumeration}", package.replace('.', "::"));
                    let named = format!(
                        r#"#[serde(serialize_with = "crate::json::lower::serialize::<{e}, _>", deserialize_with = "crate::json::lower::deserialize::<{e}, _>")] #[schema(value_type = String)]"#
                    );
                    build = build.field_attribute(format!("{path}.{field}"), described(&named));
                    continue;
                }
                _ => panic!("{message}: unknown rule {rule}"),
            };
            build = build.field_attribute(format!("{path}.{field}"), described(attribute));
        }
    }
    build.compile_protos(
        &protos,
        &[
            ".",
            include.to_str().ok_or("protoc include path is not UTF-8")?,
        ],
    )?;
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}
