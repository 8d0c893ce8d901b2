"""The rule's own tests, natively: `python -m unittest` in this folder (with sdk/python on
PYTHONPATH)."""

import unittest

import costwatch_rule as cw
from costwatch_rule import testing

from app import WeekOverWeek


class WeekOverWeekTest(unittest.TestCase):
    def test_a_week_well_above_the_weeks_before_fires(self):
        flat = [20.0] * 35
        self.assertEqual(testing.run(WeekOverWeek, [testing.series(flat)]), [])
        stepped = [20.0] * 28 + [30.0] * 7
        (found,) = testing.run(WeekOverWeek, [testing.series(stepped)])
        self.assertEqual(found.severity, cw.Severity.WARNING)
        self.assertIn("1.5×", found.message)
        self.assertAlmostEqual(found.monthly_impact, 10.0 * cw.DAYS_PER_MONTH)

    def test_days_before_the_first_billing_day_are_unknown_not_free(self):
        # Two weeks of zeros before the data starts would halve the baseline if read as spend.
        new = testing.series([0.0] * 14 + [20.0] * 21, known_from=14)
        self.assertEqual(testing.run(WeekOverWeek, [new]), [])
        new.known_from = 0
        self.assertEqual(len(testing.run(WeekOverWeek, [new])), 1, "a false alarm on zeros")

    def test_settings_are_checked(self):
        with self.assertRaisesRegex(cw.BadConfig, "weeks = 6: must be at most 4"):
            testing.run(WeekOverWeek, [], config={"weeks": 6})
        with self.assertRaisesRegex(cw.BadConfig, "unknown setting ration"):
            testing.run(WeekOverWeek, [], config={"ration": 2.0})


if __name__ == "__main__":
    unittest.main()
