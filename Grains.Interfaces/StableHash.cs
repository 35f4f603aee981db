namespace DeliveryGrains;

/// <summary>A string hash that is the same on every silo and every run (FNV-1a), for routing keys to shards.</summary>
public static class StableHash
{
    public static uint Of(string value) => Of(value.AsSpan());

    public static uint Of(ReadOnlySpan<char> value)
    {
        var hash = 2166136261u;
        foreach (var c in value)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }

    public static int Bucket(string value, int buckets) => Bucket(value.AsSpan(), buckets);

    public static int Bucket(ReadOnlySpan<char> value, int buckets) => (int)(Of(value) % (uint)buckets);
}
