"""What staff read for each code the service uses (translated where shown)."""

from app.models.consent import ConsentMethod, DataCategory, LawfulBasis
from app.models.directory import AgencyKind, Purpose
from app.models.follow_up import FollowUpKind, FollowUpResult
from app.models.identity import Language, NotificationChoice, NotificationKind
from app.models.notification import NotificationStatus
from app.models.outcome import OutcomeKind, OutcomeType
from app.models.referral import CancelReason, DeclineReason, HandoverMode, ReferralStatus, Urgency
from app.models.subject import PreferredContact
from app.web.i18n import N_

PURPOSES = {
    Purpose.BETTER_OFF_CALCULATION: N_("Better-off calculation"),
    Purpose.WORK_FOCUSED_INTERVIEW: N_("Work-focused interview"),
    Purpose.JOB_SEARCH_SUPPORT: N_("Job search support"),
    Purpose.TRAINING_AND_SKILLS: N_("Training and skills"),
    Purpose.ESOL: N_("English for speakers of other languages"),
    Purpose.CHILDCARE_SUPPORT: N_("Childcare support"),
    Purpose.DEBT_ADVICE: N_("Debt advice"),
    Purpose.BENEFITS_ADVICE: N_("Benefits advice"),
    Purpose.HOUSING_SUPPORT: N_("Housing support"),
    Purpose.HEALTH_VISITING: N_("Health visiting"),
    Purpose.FAMILY_SUPPORT: N_("Family support"),
    Purpose.VOLUNTEERING: N_("Volunteering"),
    Purpose.DOMESTIC_ABUSE_SUPPORT: N_("Domestic abuse support"),
    Purpose.MENTAL_HEALTH_SUPPORT: N_("Mental health support"),
    Purpose.OTHER: N_("Other"),
}

STATUSES = {
    ReferralStatus.SUBMITTED: N_("New"),
    ReferralStatus.RECEIVED: N_("Received"),
    ReferralStatus.ACCEPTED: N_("Accepted"),
    ReferralStatus.DECLINED: N_("Declined"),
    ReferralStatus.HANDOVER_SCHEDULED: N_("Handover scheduled"),
    ReferralStatus.IN_PROGRESS: N_("In progress"),
    ReferralStatus.COMPLETED: N_("Completed"),
    ReferralStatus.CANCELLED: N_("Cancelled"),
    ReferralStatus.WITHDRAWN: N_("Withdrawn"),
}

# GOV.UK tag colours: new work stands out, closed work is grey.
STATUS_COLOURS = {
    ReferralStatus.SUBMITTED: "govuk-tag--blue",
    ReferralStatus.RECEIVED: "govuk-tag--light-blue",
    ReferralStatus.ACCEPTED: "govuk-tag--turquoise",
    ReferralStatus.DECLINED: "govuk-tag--red",
    ReferralStatus.HANDOVER_SCHEDULED: "govuk-tag--purple",
    ReferralStatus.IN_PROGRESS: "govuk-tag--yellow",
    ReferralStatus.COMPLETED: "govuk-tag--green",
    ReferralStatus.CANCELLED: "govuk-tag--grey",
    ReferralStatus.WITHDRAWN: "govuk-tag--grey",
}

# The button for each move a party may make from the referral page.
ACTION_BUTTONS = {
    ReferralStatus.RECEIVED: N_("Mark as received"),
    ReferralStatus.ACCEPTED: N_("Accept referral"),
    ReferralStatus.DECLINED: N_("Decline referral"),
    ReferralStatus.HANDOVER_SCHEDULED: N_("Schedule handover"),
    ReferralStatus.IN_PROGRESS: N_("Start work"),
    ReferralStatus.COMPLETED: N_("Complete referral"),
    ReferralStatus.CANCELLED: N_("Cancel referral"),
}

URGENCIES = {
    Urgency.ROUTINE: N_("Routine"),
    Urgency.SOON: N_("Soon"),
    Urgency.URGENT: N_("Urgent"),
}

HANDOVER_MODES = {
    HandoverMode.WARM_INTRODUCTION: N_("Warm introduction"),
    HandoverMode.JOINT_APPOINTMENT: N_("Joint appointment"),
    HandoverMode.REFERRAL_ONLY: N_("Referral only"),
}

HANDOVER_HINTS = {
    HandoverMode.WARM_INTRODUCTION: N_(
        "You introduce the person to the other service, by phone or in person"
    ),
    HandoverMode.JOINT_APPOINTMENT: N_("You and the other service meet the person together"),
    HandoverMode.REFERRAL_ONLY: N_("The other service contacts the person"),
}

DECLINE_REASONS = {
    DeclineReason.NOT_ELIGIBLE: N_("The person is not eligible"),
    DeclineReason.NO_CAPACITY: N_("We have no capacity"),
    DeclineReason.OUT_OF_AREA: N_("The person lives outside our area"),
    DeclineReason.DUPLICATE: N_("We already have this referral"),
    DeclineReason.UNABLE_TO_CONTACT: N_("We could not contact the person"),
    DeclineReason.DECLINED_BY_PERSON: N_("The person does not want the service"),
    DeclineReason.OTHER: N_("Another reason"),
}

CANCEL_REASONS = {
    CancelReason.NO_LONGER_NEEDED: N_("The person no longer needs it"),
    CancelReason.REFERRED_ELSEWHERE: N_("The person was referred elsewhere"),
    CancelReason.PERSON_MOVED: N_("The person has moved away"),
    CancelReason.SENT_IN_ERROR: N_("It was sent in error"),
    CancelReason.DECLINED_BY_PERSON: N_("The person does not want it any more"),
    CancelReason.OTHER: N_("Another reason"),
}

OUTCOMES = {
    OutcomeType.JOB_ENTRY: N_("Started a job"),
    OutcomeType.TRAINING_STARTED: N_("Started training"),
    OutcomeType.TRAINING_COMPLETED: N_("Completed training"),
    OutcomeType.VOLUNTEERING: N_("Started volunteering"),
    OutcomeType.BETTER_OFF_CALCULATION_DONE: N_("Better-off calculation done"),
    OutcomeType.BENEFIT_CLAIM_MADE: N_("Benefit claim made"),
    OutcomeType.DEBT_PLAN_AGREED: N_("Debt plan agreed"),
    OutcomeType.CHILDCARE_ARRANGED: N_("Childcare arranged"),
    OutcomeType.ENGAGED_WITH_SERVICE: N_("Engaged with the service"),
    OutcomeType.CONFIDENCE_IMPROVED: N_("Confidence improved"),
    OutcomeType.DID_NOT_ATTEND: N_("Did not attend"),
    OutcomeType.UNABLE_TO_CONTACT: N_("Could not be contacted"),
    OutcomeType.REFERRED_ONWARD: N_("Referred onward"),
    OutcomeType.OTHER: N_("Other outcome"),
    OutcomeType.JOB_SUSTAINED_13_WEEKS: N_("Still in work after 13 weeks"),
    OutcomeType.JOB_SUSTAINED_26_WEEKS: N_("Still in work after 26 weeks"),
    OutcomeType.JOB_NOT_SUSTAINED: N_("No longer in the job"),
}

OUTCOME_KINDS = {OutcomeKind.HARD: N_("Hard outcome"), OutcomeKind.SOFT: N_("Soft outcome")}

CONSENT_METHODS = {
    ConsentMethod.VERBAL: N_("Verbally"),
    ConsentMethod.WRITTEN: N_("In writing"),
    ConsentMethod.ELECTRONIC: N_("Electronically"),
}

LAWFUL_BASES = {
    LawfulBasis.CONSENT: N_("Consent"),
    LawfulBasis.PUBLIC_TASK: N_("Public task"),
    LawfulBasis.LEGITIMATE_INTERESTS: N_("Legitimate interests"),
    LawfulBasis.VITAL_INTERESTS: N_("Vital interests"),
}

DATA_CATEGORIES = {
    DataCategory.IDENTITY: N_("Name and date of birth"),
    DataCategory.CONTACT: N_("Contact details (phone, email, postcode)"),
    DataCategory.CIRCUMSTANCES: N_("Circumstances (lone parent, benefits, barriers)"),
    DataCategory.HEALTH: N_("Health"),
    DataCategory.FINANCIAL: N_("Money and debts"),
    DataCategory.EMPLOYMENT: N_("Work history"),
}

CONTACT_METHODS = {
    PreferredContact.PHONE: N_("Phone"),
    PreferredContact.EMAIL: N_("Email"),
    PreferredContact.TEXT: N_("Text message"),
    PreferredContact.LETTER: N_("Letter"),
    PreferredContact.NONE: N_("No preference"),
}

AGENCY_KINDS = {
    AgencyKind.JOBCENTRE_PLUS: N_("Jobcentre Plus"),
    AgencyKind.CHILDRENS_CENTRE: N_("Children's centre"),
    AgencyKind.COMMUNITIES_FIRST: N_("Communities First"),
    AgencyKind.HEALTH_VISITING: N_("Health visiting"),
    AgencyKind.DEBT_ADVICE: N_("Debt advice"),
    AgencyKind.CITIZENS_ADVICE: N_("Citizens Advice"),
    AgencyKind.TRAINING_PROVIDER: N_("Training provider"),
    AgencyKind.CHILDCARE: N_("Childcare"),
    AgencyKind.HOUSING: N_("Housing"),
    AgencyKind.OTHER: N_("Other"),
}

LANGUAGES = {"en": N_("English"), "cy": N_("Welsh")}

# Circumstances offered when making a referral (other systems may send codes of their own).
BENEFITS = {
    "universal_credit": N_("Universal Credit"),
    "child_benefit": N_("Child Benefit"),
    "jobseekers_allowance": N_("Jobseeker's Allowance"),
    "employment_and_support_allowance": N_("Employment and Support Allowance"),
    "personal_independence_payment": N_("Personal Independence Payment"),
    "housing_benefit": N_("Housing Benefit"),
}
BARRIERS = {
    "debt": N_("Debt"),
    "childcare": N_("Childcare"),
    "transport": N_("Transport"),
    "confidence": N_("Confidence"),
    "health": N_("Health"),
    "housing": N_("Housing"),
    "language": N_("Language"),
    "skills": N_("Skills or qualifications"),
}

FOLLOW_UP_KINDS = {
    FollowUpKind.JOB_SUSTAINMENT_13_WEEKS: N_("Job check at 13 weeks"),
    FollowUpKind.JOB_SUSTAINMENT_26_WEEKS: N_("Job check at 26 weeks"),
    FollowUpKind.RESUME_SUPPORT: N_("Resume support"),
}
FOLLOW_UP_HINTS = {
    FollowUpKind.JOB_SUSTAINMENT_13_WEEKS: N_("Are they still in the job they started 13 weeks ago?"),
    FollowUpKind.JOB_SUSTAINMENT_26_WEEKS: N_("Are they still in the job they started 26 weeks ago?"),
    FollowUpKind.RESUME_SUPPORT: N_("The referral has closed and you asked to have the person back."),
}
FOLLOW_UP_RESULTS = {
    FollowUpResult.OUTCOME_RECORDED: N_("Outcome recorded"),
    FollowUpResult.UNABLE_TO_CONTACT: N_("Could not contact them"),
    FollowUpResult.SUPPORT_RESUMED: N_("Support resumed"),
    FollowUpResult.CONSENT_WITHDRAWN: N_("Closed: consent withdrawn"),
}

# The notifications staff choose how to hear of, and how.
NOTIFICATION_KINDS = {
    NotificationKind.NEW_REFERRAL: N_("New referrals to your team"),
    NotificationKind.REFERRAL_UPDATE: N_("Changes to referrals: accepted, declined, outcomes and so on"),
    NotificationKind.MESSAGE: N_("New messages on referrals"),
    NotificationKind.OVERDUE_DIGEST: N_("Referrals overdue for a decision"),
    NotificationKind.FOLLOW_UP_DUE: N_("Follow-ups falling due"),
    NotificationKind.PASSWORD_LINK: N_("Links to set a password"),
}
NOTIFICATION_CHOICES = {
    NotificationChoice.IMMEDIATE: N_("Email me straight away"),
    NotificationChoice.DAILY_DIGEST: N_("Once a day, in a digest"),
    NotificationChoice.OFF: N_("Do not email me"),
}
NOTIFICATION_STATUSES = {
    NotificationStatus.PENDING: N_("Waiting to send"),
    NotificationStatus.IN_FLIGHT: N_("Sending"),
    NotificationStatus.SENT: N_("Sent"),
    NotificationStatus.DEAD: N_("Failed"),
    NotificationStatus.HELD: N_("Held for a digest"),
    NotificationStatus.DIGESTED: N_("Sent in a digest"),
}

# Each language named in itself, as a language switch names them.
STAFF_LANGUAGES = {Language.ENGLISH: N_("English"), Language.WELSH: N_("Cymraeg")}
