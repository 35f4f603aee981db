namespace DeliveryGrains.Hosting.Storage;

/// <summary>
/// A grain storage that reads many grains' stored states at once. Work that surveys a whole slice of
/// a delivery (Compute stats, pages of sending logs) reads what the logs stored instead of activating
/// a grain per log; a log stores every change before it reports it, so what is stored is never behind
/// what the counts already include.
/// </summary>
public interface IGrainStateSurvey
{
    /// <summary>The stored states of <paramref name="grainIds"/>, in order; null where nothing is stored.</summary>
    Task<IReadOnlyList<T?>> ReadManyAsync<T>(string stateName, IReadOnlyList<GrainId> grainIds) where T : class;
}
