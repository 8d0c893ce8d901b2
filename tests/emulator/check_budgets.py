"""Self-check of ext_budgets.py: starts moto_peer.py and drives AWS Budgets through boto3 (and
raw HTTP where boto3 would refuse to send the request).

Run: cd tests/emulator && ../../.venv/bin/python check_budgets.py   (exit status 0 = all good)
"""

import calendar
import datetime as dt
import json
import time

import boto3
import botocore.config
import botocore.exceptions

from check_emulator import http, start, stopped

ACCOUNT = "123456789012"
TARGET = "AWSBudgetServiceGateway."
SNS = {"SubscriptionType": "SNS", "Address": f"arn:aws:sns:us-east-1:{ACCOUNT}:budget-alerts"}
END_2087 = dt.datetime(2087, 6, 15, tzinfo=dt.timezone.utc)


def budget(name, amount="100", **extra):
    return {"BudgetName": name, "BudgetLimit": {"Amount": amount, "Unit": "USD"},
            "TimeUnit": "MONTHLY", "BudgetType": "COST", **extra}


def alert(threshold, kind="ACTUAL", threshold_type="PERCENTAGE"):
    return {"NotificationType": kind, "ComparisonOperator": "GREATER_THAN",
            "Threshold": threshold, "ThresholdType": threshold_type}


def email(i):
    return {"SubscriptionType": "EMAIL", "Address": f"ops{i}@example.test"}


def arn(name):
    return f"arn:aws:budgets::{ACCOUNT}:budget/{name}"


def error(call, **kwargs):
    """(code, message) of the error a call must raise."""
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError(f"expected an error from {call.__name__}({kwargs})")


def raw(port, op, params):
    """A Budgets call over raw HTTP, as the Rust SDK sends it; (status, headers, JSON body)."""
    body = params if isinstance(params, bytes) else json.dumps(params).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": TARGET + op}
    status, h, data = http(port, "/", body, headers)
    return status, h, json.loads(data)


def calls(port):
    status, _, body = http(port, "/costwatch-emulator/budgets/calls", method="GET")
    assert status == 200
    return [(c["operation"], c["budgetName"], c["status"], c["error"])
            for c in json.loads(body)["calls"]]


def client(port):
    return boto3.client(
        "budgets", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=botocore.config.Config(retries={"total_max_attempts": 1}),
    )


def check_create_and_describe(port, b):
    b.create_budget(
        AccountId=ACCOUNT,
        Budget=budget("alpha", CostFilters={"Service": ["Amazon EC2"]},
                      CostTypes={"IncludeTax": False}),
        NotificationsWithSubscribers=[
            {"Notification": alert(80), "Subscribers": [email(1), SNS]},
            {"Notification": alert(100, "FORECASTED"), "Subscribers": [email(2)]},
        ],
        ResourceTags=[{"Key": "team", "Value": "platform"}, {"Key": "env", "Value": "prod"}],
    )
    got = b.describe_budget(AccountId=ACCOUNT, BudgetName="alpha")["Budget"]
    assert got["BudgetLimit"] == {"Amount": "100.0", "Unit": "USD"}, got  # AWS echoes "100.0"
    assert got["CostFilters"] == {"Service": ["Amazon EC2"]}
    assert got["CostTypes"]["IncludeTax"] is False and got["CostTypes"]["IncludeCredit"] is True
    assert len(got["CostTypes"]) == 11 and got["CostTypes"]["UseBlended"] is False
    today = dt.datetime.now(dt.timezone.utc)
    assert got["TimePeriod"]["Start"] == today.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    assert got["TimePeriod"]["End"] == END_2087
    assert abs((got["LastUpdatedTime"] - today).total_seconds()) < 60
    assert got["CalculatedSpend"]["ActualSpend"] == {"Amount": "0.0", "Unit": "USD"}
    notes = b.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName="alpha")
    assert notes["Notifications"] == [alert(80.0), alert(100.0, "FORECASTED")], notes
    assert "NextToken" not in notes
    subs = b.describe_subscribers_for_notification(
        AccountId=ACCOUNT, BudgetName="alpha", Notification=alert(80))["Subscribers"]
    assert subs == [email(1), SNS], subs
    tags = b.list_tags_for_resource(ResourceARN=arn("alpha"))["ResourceTags"]
    assert tags == [{"Key": "team", "Value": "platform"}, {"Key": "env", "Value": "prod"}]

    assert error(b.create_budget, AccountId=ACCOUNT, Budget=budget("alpha")) == (
        "DuplicateRecordException", "Error creating budget: alpha - the budget already exists.")
    assert error(b.describe_budget, AccountId=ACCOUNT, BudgetName="nope") == (
        "NotFoundException", "Unable to get budget: nope - the budget doesn't exist.")

    spend = {"ActualSpend": {"Amount": "42.5", "Unit": "USD"},
             "ForecastedSpend": {"Amount": "120", "Unit": "USD"}}
    b.create_budget(AccountId=ACCOUNT, Budget=budget("spent", CalculatedSpend=spend))
    got = b.describe_budget(AccountId=ACCOUNT, BudgetName="spent")["Budget"]
    assert got["CalculatedSpend"]["ForecastedSpend"] == {"Amount": "120.0", "Unit": "USD"}

    status, h, body = raw(port, "DescribeBudget", {"AccountId": ACCOUNT, "BudgetName": "alpha"})
    assert status == 200 and h["x-amzn-RequestId"] and h["Content-Type"] == "application/x-amz-json-1.1"
    assert body["Budget"]["TimePeriod"]["End"] == 3706473600  # epoch seconds, a JSON number
    status, h, body = raw(port, "DescribeBudget", {"AccountId": ACCOUNT, "BudgetName": "nope"})
    assert status == 400 and h["x-amzn-RequestId"] and body["__type"] == "NotFoundException"
    assert body["Message"].startswith("Unable to get budget")


def check_pagination(b):
    for i in range(3):
        b.create_budget(AccountId=ACCOUNT, Budget=budget(f"page-{i}"))
    everything = ["alpha", "spent", "page-0", "page-1", "page-2"]
    pages, token = [], None
    while True:
        kwargs = {"NextToken": token} if token else {}
        resp = b.describe_budgets(AccountId=ACCOUNT, MaxResults=2, **kwargs)
        pages.append([x["BudgetName"] for x in resp["Budgets"]])
        token = resp.get("NextToken")
        if not token:
            break
    assert pages == [everything[:2], everything[2:4], everything[4:]], pages
    paginator = b.get_paginator("describe_budgets")
    names = [x["BudgetName"] for p in paginator.paginate(AccountId=ACCOUNT, PaginationConfig={"PageSize": 2})
             for x in p["Budgets"]]
    assert names == everything
    assert [x["BudgetName"] for x in b.describe_budgets(AccountId=ACCOUNT)["Budgets"]] == everything
    assert error(b.describe_budgets, AccountId=ACCOUNT, NextToken="garbage")[0] == "InvalidNextTokenException"


def check_update(port, b):
    before = b.describe_budget(AccountId=ACCOUNT, BudgetName="alpha")["Budget"]
    time.sleep(0.01)
    b.update_budget(AccountId=ACCOUNT, NewBudget=budget(
        "alpha", amount="250.50", CostFilters={"Region": ["us-east-1"], "Service": ["Amazon S3"]}))
    got = b.describe_budget(AccountId=ACCOUNT, BudgetName="alpha")["Budget"]
    assert got["BudgetLimit"]["Amount"] == "250.5"
    assert got["CostFilters"] == {"Region": ["us-east-1"], "Service": ["Amazon S3"]}
    assert got["CostTypes"]["IncludeTax"] is True, "NewBudget replaces the CostTypes"
    assert got["TimePeriod"] == before["TimePeriod"], "an update without TimePeriod keeps it"
    assert got["LastUpdatedTime"] > before["LastUpdatedTime"]
    notes = b.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName="alpha")["Notifications"]
    assert len(notes) == 2, "an update keeps the notifications"

    b.update_budget(AccountId=ACCOUNT, NewBudget=budget("alpha", amount="25100000"))
    got = b.describe_budget(AccountId=ACCOUNT, BudgetName="alpha")["Budget"]
    assert got["BudgetLimit"]["Amount"] == "2.51E+7", got["BudgetLimit"]  # as AWS echoes it
    code, message = error(b.update_budget, AccountId=ACCOUNT, NewBudget=budget("alpha", amount="2.51E+7"))
    assert code == "ValidationException" and "'newBudget.budgetLimit.amount'" in message, message
    assert error(b.update_budget, AccountId=ACCOUNT, NewBudget=budget("nope")) == (
        "NotFoundException", "Unable to update budget: nope - the budget doesn't exist.")
    status, _, _ = raw(port, "UpdateBudget", {"AccountId": ACCOUNT, "NewBudget": budget("alpha")})
    assert status == 200


def check_notifications(b):
    b.create_budget(AccountId=ACCOUNT, Budget=budget("notify"))
    kw = {"AccountId": ACCOUNT, "BudgetName": "notify"}
    b.create_notification(**kw, Notification=alert(50), Subscribers=[email(1)])
    assert error(b.create_notification, **kw, Notification=alert(50), Subscribers=[email(2)])[0] == \
        "DuplicateRecordException"
    assert error(b.create_notification, AccountId=ACCOUNT, BudgetName="nope",
                 Notification=alert(50), Subscribers=[email(1)])[0] == "NotFoundException"
    b.update_notification(**kw, OldNotification=alert(50), NewNotification=alert(60))
    subs = b.describe_subscribers_for_notification(**kw, Notification=alert(60))["Subscribers"]
    assert subs == [email(1)], "an updated notification keeps its subscribers"
    b.create_notification(**kw, Notification=alert(70), Subscribers=[email(1)])
    assert error(b.update_notification, **kw, OldNotification=alert(60),
                 NewNotification=alert(70))[0] == "DuplicateRecordException"
    assert error(b.update_notification, **kw, OldNotification=alert(50),
                 NewNotification=alert(55))[0] == "NotFoundException"
    b.delete_notification(**kw, Notification=alert(70))
    assert error(b.delete_notification, **kw, Notification=alert(70))[0] == "NotFoundException"
    for threshold in range(1, 10):  # 60 plus nine more: the quota of ten
        b.create_notification(**kw, Notification=alert(threshold), Subscribers=[email(1)])
    assert error(b.create_notification, **kw, Notification=alert(99), Subscribers=[email(1)])[0] == \
        "CreationLimitExceededException"
    sizes = [len(p["Notifications"]) for p in b.get_paginator("describe_notifications_for_budget")
             .paginate(**kw, PaginationConfig={"PageSize": 4})]
    assert sizes == [4, 4, 2], sizes
    too_many = [{"Notification": alert(t), "Subscribers": [email(1)]} for t in range(11)]
    assert error(b.create_budget, AccountId=ACCOUNT, Budget=budget("eleven"),
                 NotificationsWithSubscribers=too_many)[0] == "ValidationException"


def check_subscribers(b):
    kw = {"AccountId": ACCOUNT, "BudgetName": "subs", "Notification": alert(90)}
    b.create_budget(AccountId=ACCOUNT, Budget=budget("subs"), NotificationsWithSubscribers=[
        {"Notification": alert(90), "Subscribers": [email(1)]}])
    for i in range(2, 11):
        b.create_subscriber(**kw, Subscriber=email(i))
    code, message = error(b.create_subscriber, **kw, Subscriber=email(11))
    assert code == "CreationLimitExceededException" and "10 EMAIL" in message, message
    b.create_subscriber(**kw, Subscriber=SNS)
    other_topic = {"SubscriptionType": "SNS", "Address": f"arn:aws:sns:us-east-1:{ACCOUNT}:other"}
    assert error(b.create_subscriber, **kw, Subscriber=other_topic)[0] == "CreationLimitExceededException"
    assert error(b.create_subscriber, **kw, Subscriber=email(3))[0] == "DuplicateRecordException"
    assert error(b.create_subscriber, **{**kw, "Notification": alert(91)},
                 Subscriber=email(3))[0] == "NotFoundException"
    sizes = [len(p["Subscribers"]) for p in b.get_paginator("describe_subscribers_for_notification")
             .paginate(**kw, PaginationConfig={"PageSize": 5})]
    assert sizes == [5, 5, 1], sizes

    b.update_subscriber(**kw, OldSubscriber=email(1), NewSubscriber=email(99))
    subs = b.describe_subscribers_for_notification(**kw)["Subscribers"]
    assert subs[0] == email(99) and email(1) not in subs
    assert error(b.update_subscriber, **kw, OldSubscriber=email(2),
                 NewSubscriber=email(3))[0] == "DuplicateRecordException"
    assert error(b.update_subscriber, **kw, OldSubscriber=email(1),
                 NewSubscriber=email(50))[0] == "NotFoundException"
    b.delete_subscriber(**kw, Subscriber=email(99))
    assert error(b.delete_subscriber, **kw, Subscriber=email(99))[0] == "NotFoundException"
    for s in b.describe_subscribers_for_notification(**kw)["Subscribers"]:
        b.delete_subscriber(**kw, Subscriber=s)
    # deleting the last subscriber deletes the notification
    assert b.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName="subs")["Notifications"] == []
    assert error(b.describe_subscribers_for_notification, **kw)[0] == "NotFoundException"


def check_validation(port, b):
    """Model constraints -> ValidationException, service rules -> InvalidParameterException,
    wrong JSON types -> SerializationException; nothing gets stored."""
    count = len(b.describe_budgets(AccountId=ACCOUNT)["Budgets"])
    create = b.create_budget
    code, message = error(create, AccountId=ACCOUNT, Budget=budget("v", TimeUnit="HOURLY"))
    assert code == "ValidationException" and "'budget.timeUnit'" in message and "enum" in message
    for name in ("a:b", "a\\b", "x" * 101, "bad/action/name"):
        code, message = error(create, AccountId=ACCOUNT, Budget=budget(name))
        assert code == "ValidationException" and "'budget.budgetName'" in message, (name, message)
    assert error(create, AccountId="12345678901x", Budget=budget("v"))[0] == "ValidationException"
    assert error(create, AccountId=ACCOUNT, Budget=budget("v", amount="12abc"))[0] == "ValidationException"

    def with_alert(notification, subscribers=(email(1),)):
        return {"AccountId": ACCOUNT, "Budget": budget("v"), "NotificationsWithSubscribers": [
            {"Notification": notification, "Subscribers": list(subscribers)}]}

    code, message = error(create, **with_alert(alert(1_000_001)))
    assert code == "InvalidParameterException" and "1000000" in message, message
    code, message = error(create, **with_alert(alert(2e13, threshold_type="ABSOLUTE_VALUE")))
    assert code == "ValidationException" and "threshold" in message, message
    bad_email = {"SubscriptionType": "EMAIL", "Address": "not-an-address"}
    assert error(create, **with_alert(alert(80), [bad_email]))[0] == "InvalidParameterException"
    bad_topic = {"SubscriptionType": "SNS", "Address": "topic"}
    assert error(create, **with_alert(alert(80), [bad_topic]))[0] == "InvalidParameterException"
    twelve = [email(i) for i in range(12)]
    assert error(create, **with_alert(alert(80), twelve))[0] == "ValidationException"

    no_limit = {k: v for k, v in budget("v").items() if k != "BudgetLimit"}
    assert error(create, AccountId=ACCOUNT, Budget=no_limit)[0] == "InvalidParameterException"
    planned = budget("v", PlannedBudgetLimits={"1767225600": {"Amount": "5", "Unit": "USD"}})
    assert error(create, AccountId=ACCOUNT, Budget=planned)[0] == "InvalidParameterException"
    backwards = budget("v", TimePeriod={"Start": dt.datetime(2030, 1, 1), "End": dt.datetime(2029, 1, 1)})
    assert error(create, AccountId=ACCOUNT, Budget=backwards)[0] == "InvalidParameterException"
    dup_tags = [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]
    assert error(create, AccountId=ACCOUNT, Budget=budget("v"), ResourceTags=dup_tags)[0] == \
        "InvalidParameterException"

    numeric = budget("v")
    numeric["BudgetLimit"]["Amount"] = 100
    status, _, body = raw(port, "CreateBudget", {"AccountId": ACCOUNT, "Budget": numeric})
    assert (status, body["__type"]) == (400, "SerializationException"), body
    assert body["Message"] == "NUMBER_VALUE can not be converted to a String"
    status, _, body = raw(port, "CreateBudget", b"{not json")
    assert (status, body["__type"]) == (400, "SerializationException")
    status, _, body = raw(port, "CreateBudget", {"AccountId": ACCOUNT})
    assert body["__type"] == "ValidationException" and "'budget'" in body["Message"], body
    status, _, body = raw(port, "CreateBudgetAction", {"AccountId": ACCOUNT})
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    assert len(b.describe_budgets(AccountId=ACCOUNT)["Budgets"]) == count


def check_tags(b):
    b.tag_resource(ResourceARN=arn("alpha"), ResourceTags=[
        {"Key": "env", "Value": "staging"}, {"Key": "owner", "Value": "finops"}])
    tags = b.list_tags_for_resource(ResourceARN=arn("alpha"))["ResourceTags"]
    assert tags == [{"Key": "team", "Value": "platform"}, {"Key": "env", "Value": "staging"},
                    {"Key": "owner", "Value": "finops"}], tags
    b.untag_resource(ResourceARN=arn("alpha"), ResourceTagKeys=["team", "absent"])
    tags = b.list_tags_for_resource(ResourceARN=arn("alpha"))["ResourceTags"]
    assert [t["Key"] for t in tags] == ["env", "owner"]
    assert error(b.list_tags_for_resource, ResourceARN=arn("nope"))[0] == "NotFoundException"
    assert error(b.tag_resource, ResourceARN="arn:aws:s3:::bucket",
                 ResourceTags=[{"Key": "a", "Value": "b"}])[0] == "InvalidParameterException"
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(199)]
    assert error(b.tag_resource, ResourceARN=arn("alpha"), ResourceTags=many)[0] == \
        "ServiceQuotaExceededException"
    b.delete_budget(AccountId=ACCOUNT, BudgetName="spent")
    assert error(b.delete_budget, AccountId=ACCOUNT, BudgetName="spent")[0] == "NotFoundException"
    assert error(b.list_tags_for_resource, ResourceARN=arn("spent"))[0] == "NotFoundException"


def check_fault(port, b):
    """An injected AccessDeniedException on UpdateBudget, then success; the faulted call is
    answered by extensions.py before this service, so only the successful one is logged."""
    fault = {"target": "UpdateBudget", "count": 1, "status": 400,
             "code": "AccessDeniedException", "message": "not authorized to budgets:ModifyBudget"}
    assert http(port, "/costwatch-emulator/throttle", fault)[0] == 200
    logged = len(calls(port))
    new = budget("alpha", amount="300")
    assert error(b.update_budget, AccountId=ACCOUNT, NewBudget=new) == (
        "AccessDeniedException", "not authorized to budgets:ModifyBudget")
    b.update_budget(AccountId=ACCOUNT, NewBudget=new)
    assert b.describe_budget(AccountId=ACCOUNT, BudgetName="alpha")["Budget"]["BudgetLimit"]["Amount"] == "300.0"
    assert calls(port)[logged:] == [("UpdateBudget", "alpha", 200, None),
                                    ("DescribeBudget", "alpha", 200, None)]


def check_call_log_and_reset(port, b):
    assert http(port, "/costwatch-emulator/reset")[0] == 200
    assert calls(port) == []
    assert b.describe_budgets(AccountId=ACCOUNT)["Budgets"] == []
    b.create_budget(AccountId=ACCOUNT, Budget=budget("logged"))
    error(b.describe_budget, AccountId=ACCOUNT, BudgetName="missing")
    b.list_tags_for_resource(ResourceARN=arn("logged"))
    assert calls(port) == [
        ("DescribeBudgets", None, 200, None),
        ("CreateBudget", "logged", 200, None),
        ("DescribeBudget", "missing", 400, "NotFoundException"),
        ("ListTagsForResource", "logged", 200, None),
    ], calls(port)
    assert http(port, "/moto-api/reset")[0] == 200
    assert calls(port) == [] and b.describe_budgets(AccountId=ACCOUNT)["Budgets"] == []


def main():
    moto, port = start("moto_peer.py")
    try:
        b = client(port)
        check_create_and_describe(port, b)
        print("ok: create with notifications, subscribers and tags; describe; duplicate/not found")
        check_pagination(b)
        print("ok: DescribeBudgets pagination (MaxResults=2 over 5 budgets, paginator, bad token)")
        check_update(port, b)
        print("ok: UpdateBudget (amount, filters, kept TimePeriod, AWS amount echo)")
        check_notifications(b)
        print("ok: notifications create/update/delete, duplicates, quota of 10, pagination")
        check_subscribers(b)
        print("ok: subscribers create/update/delete, 10 EMAIL + 1 SNS, last one deletes the notification")
        check_validation(port, b)
        print("ok: validation (model constraints, service rules, JSON types)")
        check_tags(b)
        print("ok: tagging round trip, tag quota, delete")
        check_fault(port, b)
        print("ok: injected AccessDeniedException on UpdateBudget, then success")
        check_call_log_and_reset(port, b)
        print("ok: call log and reset")
    finally:
        assert stopped(moto, "eof"), "moto peer did not exit on stdin EOF"


if __name__ == "__main__":
    t0 = time.monotonic()
    main()
    print(f"all checks passed in {time.monotonic() - t0:.1f}s")
