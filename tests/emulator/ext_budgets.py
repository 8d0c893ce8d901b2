"""AWS Budgets for costwatch's tests (JSON 1.1, X-Amz-Target `AWSBudgetServiceGateway.<Op>`).

moto 5.2.5 has only CreateBudget, DescribeBudget(s), DeleteBudget and Create/Delete/
DescribeNotification(s), with no validation, no pagination, no updates, no subscribers and no
tags, so this module serves the whole service itself, from an in-memory store per account id.
A request is checked like AWS does:
- against botocore's Budgets model: a JSON value of the wrong type is a SerializationException,
  a broken constraint (required, length, pattern, enum, range) a ValidationException;
- then against the service's rules and quotas from the AWS API reference
  (docs.aws.amazon.com/aws-cost-management/latest/APIReference/): InvalidParameterException,
  CreationLimitExceededException, ServiceQuotaExceededException, DuplicateRecordException,
  NotFoundException, InvalidNextTokenException.
Errors are `{"__type": <code>, "Message": <text>}`, every answer carries `x-amzn-RequestId`.

`GET /costwatch-emulator/budgets/calls` lists the calls served, in order:
`{"calls": [{"operation", "budgetName", "status", "error"}, ...]}`. Calls failed by a fault
injected with /costwatch-emulator/throttle are answered by extensions.py before they reach this
module, so they are not in it.
"""

import base64
import calendar
import copy
import datetime as dt
import json
import re
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from werkzeug.wrappers import Request, Response

TARGET_PREFIX = "AWSBudgetServiceGateway."
CALLS_PATH = "/costwatch-emulator/budgets/calls"
JSON11 = "application/x-amz-json-1.1"

# From the API reference: TimePeriod.End default; Notification ("up to ten notifications");
# NotificationWithSubscribers ("one SNS subscriber and up to 10 email subscribers");
# Notification.Threshold ("The maximum limit for your threshold is 1,000,000%");
# ResourceTagList (200 tags); HistoricalOptions.BudgetAdjustmentPeriod maximum per TimeUnit.
DEFAULT_END = 3706473600  # 2087-06-15 00:00 UTC
MAX_NOTIFICATIONS = 10
MAX_EMAIL_SUBSCRIBERS = 10
MAX_SNS_SUBSCRIBERS = 1
MAX_PERCENTAGE = 1_000_000
MAX_TAGS = 200
ADJUSTMENT_PERIOD_MAX = {"DAILY": 60, "MONTHLY": 12, "QUARTERLY": 4, "ANNUALLY": 1}
# User guide, "Managing your costs with AWS Budgets": up to 20,000 budgets per account.
MAX_BUDGETS = 20_000
DEFAULT_PAGE_SIZE = 100  # DescribeBudgets: "The default is 100."
# CostTypes: every member's documented default.
COST_TYPE_DEFAULTS = {
    "IncludeTax": True, "IncludeSubscription": True, "UseBlended": False,
    "IncludeRefund": True, "IncludeCredit": True, "IncludeUpfront": True,
    "IncludeRecurring": True, "IncludeOtherSubscription": True, "IncludeSupport": True,
    "IncludeDiscount": True, "UseAmortized": False,
}
SPEND_BUDGET_TYPES = ("COST", "USAGE")  # the others track RI/Savings Plans percentages
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
SNS_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}")
BUDGET_ARN = re.compile(r"arn:aws[a-z-]*:budgets::(\d{12}):budget/(.+)")
JSON_TOKENS = {dict: "START_OBJECT", list: "START_ARRAY", str: "VALUE_STRING", bool: "BOOLEAN_VALUE"}


class BudgetsError(Exception):
    """An AWS error answer: 400 and a JSON 1.1 error body."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(message):
    """A request that breaks one of the service's rules."""
    return BudgetsError("InvalidParameterException", message)


def not_found(message):
    """A budget, notification, subscriber or resource that does not exist."""
    return BudgetsError("NotFoundException", message)


def duplicate(message):
    """A budget, notification or subscriber that already exists."""
    return BudgetsError("DuplicateRecordException", message)


def _response(status, body, headers=None):
    """A JSON 1.1 answer with a request id."""
    headers = {"x-amzn-RequestId": str(uuid.uuid4()), **(headers or {})}
    return Response(json.dumps(body), status, headers, content_type=JSON11)


def _error_response(err):
    """The JSON 1.1 error answer for a BudgetsError."""
    body = {"__type": err.code, "Message": err.message}
    return _response(400, body, {"x-amzn-ErrorType": err.code})


# ---- the model's constraints, checked like AWS's front end --------------------------------


def _compile(pattern):
    """A model pattern as a Python regex. A Java inline flag inside the pattern (BudgetName's
    `(?i)`) is applied to the whole pattern: Python accepts such flags only at the start."""
    try:
        return re.compile(pattern)
    except re.error:
        return re.compile(pattern.replace("(?i)", ""), re.IGNORECASE)


def _member_path(path, name):
    """Where a member sits, as AWS names it in validation messages: `newBudget.budgetLimit`."""
    name = name[0].lower() + name[1:]
    return f"{path}.{name}" if path else name


def _json_token(value):
    """The JSON token a decoded value came from, as Jackson names it in AWS's messages."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "NUMBER_VALUE"
    return JSON_TOKENS[type(value)]


def _has_type(value, kind):
    """Whether a decoded JSON value fits a model shape's type."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return {
        "structure": isinstance(value, dict),
        "map": isinstance(value, dict),
        "list": isinstance(value, list),
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": number and isinstance(value, int),
        "long": number and isinstance(value, int),
        "double": number,
        "float": number,
        "timestamp": number,  # awsJson sends epoch seconds
    }.get(kind, True)


class ModelChecker:
    """Checks a request against botocore's Budgets model."""

    def __init__(self, model):
        self.model = model
        self.patterns = {}

    def check(self, operation, params):
        """Raise SerializationException for a mistyped value, else ValidationException listing
        every broken constraint (`Value at '<path>' failed to satisfy constraint: ...`)."""
        problems = []
        self._walk(params, self.model.operation_model(operation).input_shape, "", problems)
        if problems:
            raise BudgetsError("ValidationException", "; ".join(
                f"Value at '{path}' failed to satisfy constraint: {what}" for path, what in problems
            ))

    def _walk(self, value, shape, path, problems):
        kind = shape.type_name
        if not _has_type(value, kind):
            raise BudgetsError(
                "SerializationException",
                f"{_json_token(value)} can not be converted to a {kind.capitalize()}",
            )
        if kind == "structure":
            self._walk_structure(value, shape, path, problems)
        elif kind == "list":
            self._check_size(len(value), shape, path, problems)
            for i, item in enumerate(value, 1):
                self._walk_optional(item, shape.member, f"{path}.{i}.member", problems)
        elif kind == "map":
            self._check_size(len(value), shape, path, problems)
            for key, item in value.items():
                self._walk(key, shape.key, f"{path}.key", problems)
                self._walk_optional(item, shape.value, f"{path}.{key}", problems)
        elif kind == "string":
            self._check_string(value, shape, path, problems)
        elif kind in ("integer", "long", "double", "float"):
            self._check_range(value, shape, path, problems)

    def _walk_optional(self, value, shape, path, problems):
        if value is None:
            problems.append((path, "Member must not be null"))
        else:
            self._walk(value, shape, path, problems)

    def _walk_structure(self, value, shape, path, problems):
        for name in shape.required_members:
            if value.get(name) is None:
                problems.append((_member_path(path, name), "Member must not be null"))
        for name, member in shape.members.items():
            if value.get(name) is not None:
                self._walk(value[name], member, _member_path(path, name), problems)

    @staticmethod
    def _check_size(size, shape, path, problems):
        meta = shape.metadata
        if "min" in meta and size < meta["min"]:
            problems.append((path, f"Member must have length greater than or equal to {meta['min']}"))
        if "max" in meta and size > meta["max"]:
            problems.append((path, f"Member must have length less than or equal to {meta['max']}"))

    @staticmethod
    def _check_range(value, shape, path, problems):
        meta = shape.metadata
        if "min" in meta and value < meta["min"]:
            problems.append((path, f"Member must have value greater than or equal to {meta['min']}"))
        if "max" in meta and value > meta["max"]:
            problems.append((path, f"Member must have value less than or equal to {meta['max']}"))

    def _check_string(self, value, shape, path, problems):
        self._check_size(len(value), shape, path, problems)
        if shape.enum and value not in shape.enum:
            problems.append((path, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"))
        pattern = shape.metadata.get("pattern")
        if pattern:
            if pattern not in self.patterns:
                self.patterns[pattern] = _compile(pattern)
            if not self.patterns[pattern].fullmatch(value):
                problems.append((path, f"Member must satisfy regular expression pattern: {pattern}"))


# ---- values as AWS stores and echoes them ---------------------------------------------------


def aws_amount(text):
    """A Spend amount as Budgets echoes it, i.e. Java's BigDecimal.valueOf(double):
    "100" -> "100.0", "12.50" -> "12.5", "25100000" -> "2.51E+7" (which the NumericValue
    pattern then refuses if sent back)."""
    value = float(text)
    if value == 0 or 1e-3 <= value < 1e7:
        java = repr(value)  # Double.toString in this range: plain, at least one decimal
    else:
        _, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
        mantissa = "".join(map(str, digits))
        java = f"{mantissa[0]}.{mantissa[1:] or '0'}E{len(digits) - 1 + exponent}"
    return str(Decimal(java))


def period_start(time_unit, today):
    """Epoch seconds of the start of the current DAILY/WEEKLY/MONTHLY/QUARTERLY/ANNUALLY period."""
    if time_unit == "WEEKLY":
        today -= dt.timedelta(days=today.weekday())
    elif time_unit == "MONTHLY":
        today = today.replace(day=1)
    elif time_unit == "QUARTERLY":
        today = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    elif time_unit == "ANNUALLY":
        today = today.replace(month=1, day=1)
    return calendar.timegm(today.timetuple())


def _today():
    """Today in UTC, the calendar budget periods follow."""
    return dt.datetime.now(dt.timezone.utc).date()


def _spends(budget):
    """Every Spend in a Budget: its limit, its planned limits and its calculated spend."""
    spends = [budget.get("BudgetLimit"), *budget.get("PlannedBudgetLimits", {}).values()]
    spends += budget.get("CalculatedSpend", {}).values()
    return [s for s in spends if s]


def notification_key(notification):
    """A notification's identity; ThresholdType defaults to PERCENTAGE."""
    return (
        notification["NotificationType"],
        notification["ComparisonOperator"],
        float(notification["Threshold"]),
        notification.get("ThresholdType", "PERCENTAGE"),
    )


def subscriber_key(subscriber):
    """A subscriber's identity."""
    return subscriber["SubscriptionType"], subscriber["Address"]


def _describe_notification(notification):
    """A notification for error messages: `ACTUAL GREATER_THAN 80 PERCENTAGE`."""
    kind, operator, threshold, threshold_type = notification_key(notification)
    return f"{kind} {operator} {threshold:g} {threshold_type}"


# ---- the service's own rules ----------------------------------------------------------------


def check_budget(budget):
    """CreateBudget/UpdateBudget rules beyond the model's constraints, but the TimePeriod's."""
    _check_limit(budget)
    _check_filters(budget)


def _check_limit(budget):
    """One of BudgetLimit, PlannedBudgetLimits and AutoAdjustData (none for RI and Savings
    Plans budgets, whose limit is 100)."""
    given = [k for k in ("BudgetLimit", "PlannedBudgetLimits", "AutoAdjustData") if k in budget]
    if len(given) > 1:
        raise invalid(f"Only one of BudgetLimit, PlannedBudgetLimits and AutoAdjustData can be "
                      f"present, got {', '.join(given)}")
    budget_type, time_unit = budget["BudgetType"], budget["TimeUnit"]
    if budget_type in SPEND_BUDGET_TYPES and not given:
        raise invalid("Unable to create/update budget - please provide one of the followings: "
                      "Budget Limit/ Planned Budget Limit/ Auto Adjust Data")
    if budget_type not in SPEND_BUDGET_TYPES and "BudgetLimit" in budget:
        if float(budget["BudgetLimit"]["Amount"]) != 100:
            raise invalid(f"The budget limit of a {budget_type} budget must be 100")
    _check_planned(budget.get("PlannedBudgetLimits"), budget_type, time_unit)
    _check_auto_adjust(budget.get("AutoAdjustData"), time_unit)


def _check_planned(planned, budget_type, time_unit):
    """Planned limits are for MONTHLY or QUARTERLY cost or usage budgets, keyed by period start."""
    if planned is None:
        return
    if budget_type not in SPEND_BUDGET_TYPES or time_unit not in ("MONTHLY", "QUARTERLY"):
        raise invalid("PlannedBudgetLimits are for MONTHLY or QUARTERLY COST or USAGE budgets")
    if not all(key.isdigit() for key in planned):
        raise invalid("PlannedBudgetLimits keys must be period starts in epoch seconds")


def _check_auto_adjust(data, time_unit):
    """A HISTORICAL auto-adjusting budget looks back at most 60 days, 12 months, 4 quarters
    or 1 year."""
    if not data or data["AutoAdjustType"] != "HISTORICAL":
        return
    if "HistoricalOptions" not in data:
        raise invalid("A HISTORICAL auto-adjusting budget needs HistoricalOptions")
    if time_unit not in ADJUSTMENT_PERIOD_MAX:
        raise invalid(f"Auto-adjusting budgets can't have TimeUnit {time_unit}")
    periods = data["HistoricalOptions"]["BudgetAdjustmentPeriod"]
    if periods > ADJUSTMENT_PERIOD_MAX[time_unit]:
        raise invalid(f"BudgetAdjustmentPeriod of a {time_unit} budget can be at most "
                      f"{ADJUSTMENT_PERIOD_MAX[time_unit]}, got {periods}")


def _check_filters(budget):
    """Either FilterExpression and Metrics or CostFilters and CostTypes (CreateBudget)."""
    if {"FilterExpression", "Metrics"} & budget.keys() and {"CostFilters", "CostTypes"} & budget.keys():
        raise invalid("Either FilterExpression and Metrics or CostFilters and CostTypes, not both")


def check_time_period(time_unit, period):
    """Start before End, End not after 2087-06-15; a CUSTOM budget gives both."""
    if time_unit == "CUSTOM" and not {"Start", "End"} <= period.keys():
        raise invalid("A CUSTOM budget needs a TimePeriod with Start and End")
    if "Start" in period and "End" in period and period["Start"] >= period["End"]:
        raise invalid("The start date of the time period must come before the end date")
    if period.get("End", 0) > DEFAULT_END:
        raise invalid("The end date must come before 06/15/87 00:00 UTC")


def check_notification(notification):
    """A PERCENTAGE threshold is at most 1,000,000 %."""
    threshold = notification["Threshold"]
    if notification.get("ThresholdType", "PERCENTAGE") == "PERCENTAGE" and threshold > MAX_PERCENTAGE:
        raise invalid(f"A PERCENTAGE threshold can be at most {MAX_PERCENTAGE}, got {threshold:g}")


def check_subscriber(subscriber):
    """An EMAIL subscriber has an email address, an SNS one a topic ARN, neither line breaks."""
    address = subscriber["Address"]
    if "\n" in address or "\r" in address:
        raise invalid("A subscriber's Address can't contain line breaks")
    if subscriber["SubscriptionType"] == "EMAIL" and not EMAIL.fullmatch(address):
        raise invalid(f"Invalid email address for an EMAIL subscriber: {address}")
    if subscriber["SubscriptionType"] == "SNS" and not SNS_TOPIC_ARN.fullmatch(address):
        raise invalid(f"Invalid SNS topic ARN for an SNS subscriber: {address}")


def subscriber_quota_problem(subscribers):
    """What a notification's subscriber list breaks of the 10 EMAIL + 1 SNS quota, if anything."""
    for kind, most in (("EMAIL", MAX_EMAIL_SUBSCRIBERS), ("SNS", MAX_SNS_SUBSCRIBERS)):
        count = sum(s["SubscriptionType"] == kind for s in subscribers)
        if count > most:
            return f"A notification can have at most {most} {kind} subscriber(s), got {count}"
    return None


def check_unique(items, key, what):
    """A DuplicateRecordException when two of a request's `items` have the same `key`."""
    seen = set()
    for item in items:
        if key(item) in seen:
            raise duplicate(f"Duplicate {what} in the request")
        seen.add(key(item))


def tag_dict(tags):
    """ResourceTags as an ordered dict; a key given twice is an InvalidParameterException."""
    if len({t["Key"] for t in tags}) != len(tags):
        raise invalid("Each tag key must be unique for the resource")
    return {t["Key"]: t["Value"] for t in tags}


# ---- the store ------------------------------------------------------------------------------


@dataclass
class Alert:
    """A notification with its subscribers."""

    notification: dict
    subscribers: list


@dataclass
class Entry:
    """A stored budget with its notifications and tags."""

    budget: dict
    alerts: list = field(default_factory=list)
    tags: dict = field(default_factory=dict)

    def alert(self, notification):
        """The alert for `notification`, by identity."""
        key = notification_key(notification)
        for alert in self.alerts:
            if notification_key(alert.notification) == key:
                return alert
        raise not_found(f"Unable to find notification {_describe_notification(notification)} "
                        f"for budget {self.budget['BudgetName']}")


def new_alert(notification, subscribers):
    """A checked Alert from a request's Notification and Subscribers."""
    check_notification(notification)
    for subscriber in subscribers:
        check_subscriber(subscriber)
    check_unique(subscribers, subscriber_key, "subscriber")
    problem = subscriber_quota_problem(subscribers)
    if problem:
        raise BudgetsError("CreationLimitExceededException", problem)
    stored = {
        "NotificationType": notification["NotificationType"],
        "ComparisonOperator": notification["ComparisonOperator"],
        "Threshold": float(notification["Threshold"]),
        "ThresholdType": notification.get("ThresholdType", "PERCENTAGE"),
    }
    return Alert(stored, [dict(s) for s in subscribers])


def stored_budget(budget, previous=None):
    """A checked Budget as stored: amounts as AWS echoes them, the TimePeriod completed from
    `previous` (an update that omits it keeps it) or AWS's defaults, LastUpdatedTime now.
    CalculatedSpend is kept when given (tests set spend that way), else taken from `previous`."""
    check_budget(budget)
    stored = copy.deepcopy(budget)
    for spend in _spends(stored):
        spend["Amount"] = aws_amount(spend["Amount"])
    if stored["BudgetType"] not in SPEND_BUDGET_TYPES:
        stored.setdefault("BudgetLimit", {"Amount": "100.0", "Unit": "PERCENTAGE"})
    period = {**(previous or {}).get("TimePeriod", {}), **stored.get("TimePeriod", {})}
    check_time_period(stored["TimeUnit"], period)
    start = period_start(stored["TimeUnit"], _today())
    stored["TimePeriod"] = {"Start": start, "End": DEFAULT_END, **period}
    if previous and "CalculatedSpend" in previous:
        stored.setdefault("CalculatedSpend", previous["CalculatedSpend"])
    stored["LastUpdatedTime"] = round(time.time(), 3)
    return stored


def budget_view(budget, show_filter_expression):
    """A stored Budget as DescribeBudget(s) answers it."""
    view = copy.deepcopy(budget)
    if view["BudgetType"] == "COST" and "Metrics" not in view:
        view["CostTypes"] = {**COST_TYPE_DEFAULTS, **view.get("CostTypes", {})}
    planned = view.get("PlannedBudgetLimits", {})
    current = str(period_start(view["TimeUnit"], _today()))
    if current in planned:  # AWS shows the current period's planned limit as BudgetLimit
        view["BudgetLimit"] = planned[current]
    unit = view.get("BudgetLimit", {}).get("Unit", "USD")
    view.setdefault("CalculatedSpend", {
        "ActualSpend": {"Amount": "0.0", "Unit": unit},
        "ForecastedSpend": {"Amount": "0.0", "Unit": unit},
    })
    if not show_filter_expression:
        view.pop("FilterExpression", None)
    return view


def page(items, params, key):
    """One page of `items` for MaxResults/NextToken; the token is the next offset."""
    start = 0
    if params.get("NextToken"):
        try:
            start = json.loads(base64.urlsafe_b64decode(params["NextToken"]))["offset"]
        except (ValueError, TypeError, KeyError):
            start = -1
        if not isinstance(start, int) or not 0 < start <= len(items):
            raise BudgetsError("InvalidNextTokenException", "The pagination token is invalid.")
    end = start + (params.get("MaxResults") or DEFAULT_PAGE_SIZE)
    answer = {key: items[start:end]}
    if end < len(items):
        answer["NextToken"] = base64.urlsafe_b64encode(json.dumps({"offset": end}).encode()).decode()
    return answer


class Budgets:
    """The Budgets operations over an in-memory store: account id -> budget name -> Entry."""

    def __init__(self):
        self.accounts = defaultdict(dict)
        self.handlers = {
            "CreateBudget": self.create_budget,
            "DescribeBudget": self.describe_budget,
            "DescribeBudgets": self.describe_budgets,
            "UpdateBudget": self.update_budget,
            "DeleteBudget": self.delete_budget,
            "CreateNotification": self.create_notification,
            "DescribeNotificationsForBudget": self.describe_notifications_for_budget,
            "UpdateNotification": self.update_notification,
            "DeleteNotification": self.delete_notification,
            "CreateSubscriber": self.create_subscriber,
            "DescribeSubscribersForNotification": self.describe_subscribers_for_notification,
            "UpdateSubscriber": self.update_subscriber,
            "DeleteSubscriber": self.delete_subscriber,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
            "ListTagsForResource": self.list_tags_for_resource,
        }

    def entry(self, account, name, action="get"):
        """The stored budget `name`, else NotFoundException ("Unable to <action> budget ...")."""
        entry = self.accounts[account].get(name)
        if entry is None:
            raise not_found(f"Unable to {action} budget: {name} - the budget doesn't exist.")
        return entry

    def entry_for_arn(self, arn):
        """The stored budget an `arn:aws:budgets::<account>:budget/<name>` ARN names."""
        match = BUDGET_ARN.fullmatch(arn)
        if not match:
            raise invalid(f"Invalid budget ARN: {arn}")
        entry = self.accounts[match.group(1)].get(match.group(2))
        if entry is None:
            raise not_found(f"Unable to find resource: {arn}")
        return entry

    # -- budgets

    def create_budget(self, p):
        """The model caps NotificationsWithSubscribers at 10, the notification quota."""
        account, budget = p["AccountId"], p["Budget"]
        alerts = [new_alert(n["Notification"], n["Subscribers"])
                  for n in p.get("NotificationsWithSubscribers", [])]
        check_unique(alerts, lambda a: notification_key(a.notification), "notification")
        tags = tag_dict(p.get("ResourceTags", []))
        stored = stored_budget(budget)
        name, budgets = budget["BudgetName"], self.accounts[account]
        if name in budgets:
            raise duplicate(f"Error creating budget: {name} - the budget already exists.")
        if len(budgets) >= MAX_BUDGETS:
            raise BudgetsError("ServiceQuotaExceededException",
                               f"An account can have at most {MAX_BUDGETS} budgets")
        budgets[name] = Entry(stored, alerts, tags)
        return {}

    def describe_budget(self, p):
        entry = self.entry(p["AccountId"], p["BudgetName"])
        return {"Budget": budget_view(entry.budget, p.get("ShowFilterExpression"))}

    def describe_budgets(self, p):
        show = p.get("ShowFilterExpression")
        views = [budget_view(e.budget, show) for e in self.accounts[p["AccountId"]].values()]
        return page(views, p, "Budgets")

    def update_budget(self, p):
        new = p["NewBudget"]
        entry = self.entry(p["AccountId"], new["BudgetName"], "update")
        entry.budget = stored_budget(new, entry.budget)
        return {}

    def delete_budget(self, p):
        name = p["BudgetName"]
        self.entry(p["AccountId"], name, "delete")
        del self.accounts[p["AccountId"]][name]
        return {}

    # -- notifications

    def create_notification(self, p):
        entry = self.entry(p["AccountId"], p["BudgetName"])
        alert = new_alert(p["Notification"], p["Subscribers"])
        key = notification_key(alert.notification)
        if any(notification_key(a.notification) == key for a in entry.alerts):
            raise duplicate(f"Error creating notification: {_describe_notification(alert.notification)}"
                            " - the notification already exists.")
        if len(entry.alerts) >= MAX_NOTIFICATIONS:
            raise BudgetsError("CreationLimitExceededException",
                               f"A budget can have at most {MAX_NOTIFICATIONS} notifications")
        entry.alerts.append(alert)
        return {}

    def describe_notifications_for_budget(self, p):
        entry = self.entry(p["AccountId"], p["BudgetName"])
        return page([dict(a.notification) for a in entry.alerts], p, "Notifications")

    def update_notification(self, p):
        entry = self.entry(p["AccountId"], p["BudgetName"])
        alert = entry.alert(p["OldNotification"])
        replacement = new_alert(p["NewNotification"], [])
        key = notification_key(replacement.notification)
        if any(notification_key(a.notification) == key for a in entry.alerts if a is not alert):
            raise duplicate(f"Error updating notification: {_describe_notification(replacement.notification)}"
                            " - the notification already exists.")
        alert.notification = replacement.notification
        return {}

    def delete_notification(self, p):
        entry = self.entry(p["AccountId"], p["BudgetName"])
        entry.alerts.remove(entry.alert(p["Notification"]))
        return {}

    # -- subscribers

    def create_subscriber(self, p):
        alert = self.entry(p["AccountId"], p["BudgetName"]).alert(p["Notification"])
        subscriber = p["Subscriber"]
        check_subscriber(subscriber)
        if subscriber_key(subscriber) in map(subscriber_key, alert.subscribers):
            raise duplicate("Error creating subscriber: the subscriber already exists.")
        problem = subscriber_quota_problem(alert.subscribers + [subscriber])
        if problem:
            raise BudgetsError("CreationLimitExceededException", problem)
        alert.subscribers.append(dict(subscriber))
        return {}

    def describe_subscribers_for_notification(self, p):
        alert = self.entry(p["AccountId"], p["BudgetName"]).alert(p["Notification"])
        return page([dict(s) for s in alert.subscribers], p, "Subscribers")

    def update_subscriber(self, p):
        alert = self.entry(p["AccountId"], p["BudgetName"]).alert(p["Notification"])
        index = self._subscriber_index(alert, p["OldSubscriber"])
        new = p["NewSubscriber"]
        check_subscriber(new)
        others = alert.subscribers[:index] + alert.subscribers[index + 1:]
        if subscriber_key(new) in map(subscriber_key, others):
            raise duplicate("Error updating subscriber: the subscriber already exists.")
        problem = subscriber_quota_problem(others + [new])
        if problem:
            raise invalid(problem)
        alert.subscribers[index] = dict(new)
        return {}

    def delete_subscriber(self, p):
        """Deleting the last subscriber deletes the notification too (API reference)."""
        entry = self.entry(p["AccountId"], p["BudgetName"])
        alert = entry.alert(p["Notification"])
        del alert.subscribers[self._subscriber_index(alert, p["Subscriber"])]
        if not alert.subscribers:
            entry.alerts.remove(alert)
        return {}

    @staticmethod
    def _subscriber_index(alert, subscriber):
        keys = [subscriber_key(s) for s in alert.subscribers]
        if subscriber_key(subscriber) not in keys:
            raise not_found("Unable to find the subscriber for this notification")
        return keys.index(subscriber_key(subscriber))

    # -- tags

    def tag_resource(self, p):
        entry = self.entry_for_arn(p["ResourceARN"])
        tags = {**entry.tags, **tag_dict(p["ResourceTags"])}
        if len(tags) > MAX_TAGS:
            raise BudgetsError("ServiceQuotaExceededException",
                               f"A resource can have at most {MAX_TAGS} tags")
        entry.tags = tags
        return {}

    def untag_resource(self, p):
        entry = self.entry_for_arn(p["ResourceARN"])
        for key in p["ResourceTagKeys"]:
            entry.tags.pop(key, None)
        return {}

    def list_tags_for_resource(self, p):
        entry = self.entry_for_arn(p["ResourceARN"])
        return {"ResourceTags": [{"Key": k, "Value": v} for k, v in entry.tags.items()]}


def budget_name_of(params):
    """The budget a request is about, for the call log."""
    for holder in (params, params.get("Budget"), params.get("NewBudget")):
        if isinstance(holder, dict) and isinstance(holder.get("BudgetName"), str):
            return holder["BudgetName"]
    match = BUDGET_ARN.fullmatch(str(params.get("ResourceARN", "")))
    return match.group(2) if match else None


class Service:
    """The `ext_*.py` service: Budgets requests and the call log endpoint."""

    def __init__(self, ext):
        self.checker = ModelChecker(ext.model("budgets"))
        self.lock = threading.Lock()
        self.budgets = Budgets()
        self.calls = []

    def route(self, environ):
        """Budgets requests (by X-Amz-Target) and GET of the call log; None for the rest."""
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith(TARGET_PREFIX):
            return self.serve(Request(environ), target[len(TARGET_PREFIX):])
        if environ.get("PATH_INFO") == CALLS_PATH and environ.get("REQUEST_METHOD") == "GET":
            with self.lock:
                return _response(200, {"calls": list(self.calls)})
        return None

    def reset(self):
        """Forget every budget and the call log."""
        with self.lock:
            self.budgets = Budgets()
            self.calls = []

    def serve(self, req, operation):
        """Answer one Budgets call and log it."""
        params = {}
        with self.lock:
            try:
                params = self.parse(req)
                resp = _response(200, self.call(operation, params))
                error = None
            except BudgetsError as err:
                resp, error = _error_response(err), err.code
            self.calls.append({
                "operation": operation,
                "budgetName": budget_name_of(params),
                "status": resp.status_code,
                "error": error,
            })
        return resp

    @staticmethod
    def parse(req):
        """The request's JSON object."""
        try:
            params = json.loads(req.get_data() or b"{}")
        except ValueError as exc:
            raise BudgetsError("SerializationException", f"Malformed JSON: {exc}") from None
        if not isinstance(params, dict):
            raise BudgetsError("SerializationException", "The request body must be a JSON object")
        return params

    def call(self, operation, params):
        """Check `params` against the model, then run the operation."""
        handler = self.budgets.handlers.get(operation)
        if handler is None:
            raise BudgetsError("UnknownOperationException",
                               f"costwatch's Budgets emulator does not serve {operation}")
        self.checker.check(operation, params)
        return handler(params)
