package stacks

import "github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

// retentionDays maps a number of days to the CloudWatch Logs retention
// setting; ok is false for a number CloudWatch Logs does not accept.
func retentionDays(days int) (r awslogs.RetentionDays, ok bool) {
	switch days {
	case 1:
		return awslogs.RetentionDays_ONE_DAY, true
	case 3:
		return awslogs.RetentionDays_THREE_DAYS, true
	case 5:
		return awslogs.RetentionDays_FIVE_DAYS, true
	case 7:
		return awslogs.RetentionDays_ONE_WEEK, true
	case 14:
		return awslogs.RetentionDays_TWO_WEEKS, true
	case 30:
		return awslogs.RetentionDays_ONE_MONTH, true
	case 60:
		return awslogs.RetentionDays_TWO_MONTHS, true
	case 90:
		return awslogs.RetentionDays_THREE_MONTHS, true
	case 120:
		return awslogs.RetentionDays_FOUR_MONTHS, true
	case 150:
		return awslogs.RetentionDays_FIVE_MONTHS, true
	case 180:
		return awslogs.RetentionDays_SIX_MONTHS, true
	case 365:
		return awslogs.RetentionDays_ONE_YEAR, true
	case 400:
		return awslogs.RetentionDays_THIRTEEN_MONTHS, true
	case 545:
		return awslogs.RetentionDays_EIGHTEEN_MONTHS, true
	case 731:
		return awslogs.RetentionDays_TWO_YEARS, true
	case 1096:
		return awslogs.RetentionDays_THREE_YEARS, true
	case 1827:
		return awslogs.RetentionDays_FIVE_YEARS, true
	case 2192:
		return awslogs.RetentionDays_SIX_YEARS, true
	case 2557:
		return awslogs.RetentionDays_SEVEN_YEARS, true
	case 2922:
		return awslogs.RetentionDays_EIGHT_YEARS, true
	case 3288:
		return awslogs.RetentionDays_NINE_YEARS, true
	case 3653:
		return awslogs.RetentionDays_TEN_YEARS, true
	}
	return "", false
}
