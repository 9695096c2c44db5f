using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace OrderExport.Messaging;

/// <summary>
/// Checks the nested <c>Kafka:Producer</c> section, which <c>ValidateDataAnnotations</c> does not
/// descend into, and names each bad setting by its full configuration path.
/// </summary>
internal sealed class KafkaOptionsValidator : IValidateOptions<KafkaOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaOptions options)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(options.Producer, new ValidationContext(options.Producer), results, validateAllProperties: true))
        {
            return ValidateOptionsResult.Success;
        }

        return ValidateOptionsResult.Fail(results.Select(r =>
            $"{KafkaOptions.Section}:{nameof(KafkaOptions.Producer)}:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}"));
    }
}
