"""week-over-week: a costwatch rule plugin written in Python.

The last seven days cost well above the weeks before them: a step up, or a creep no single
day makes obvious. Build it with componentize-py (README.md) and try it with
`costwatch rule test week_over_week.wasm --data ../demo/data`.
"""

import costwatch_rule as cw


class WeekOverWeek(cw.Rule):
    id = "week-over-week"
    version = "0.1.0"
    description = "the last seven days well above the weeks before them"
    history_days = 35

    ratio = cw.number(1.3, "the last week's daily average over the weeks before it", min=1.0)
    weeks = cw.days(4, "weeks before the last one that form the baseline", min=1, max=4)
    min_excess = cw.number(3.0, "ignore excesses below this many dollars a day", min=0.0)
    warning_monthly = cw.number(100.0, "monthly impact from which it is a warning")
    critical_monthly = cw.number(1000.0, "monthly impact from which it is critical")

    def check(self, ctx, s):
        # Days before the account's first billing day are unknown, not free: wait for them.
        known = s.known()
        if len(known) < 7 * (self.weeks + 1):
            return None
        last = sum(known[-7:]) / 7
        before = cw.median([sum(known[-7 * (w + 1):-7 * w]) / 7 for w in range(1, self.weeks + 1)])
        excess = last - before
        if before <= 0 or last < self.ratio * before or excess < self.min_excess:
            return None
        impact = cw.monthly(excess)
        return cw.Finding(
            s.key,
            cw.Severity.from_impact(impact, self.warning_monthly, self.critical_monthly),
            observed=last,
            expected=before,
            message=(
                f"{s.key.label()} averaged {cw.money(last)}/day in the week to {ctx.day}, "
                f"{last / before:.1f}× the {self.weeks} weeks before ({cw.money(before)}/day); "
                f"about {cw.money(impact)} a month more if it lasts."
            ),
            score=last / before,
            detail="A whole week above the usual: look for what started or grew in it.",
        )


Rule = cw.export(WeekOverWeek)
