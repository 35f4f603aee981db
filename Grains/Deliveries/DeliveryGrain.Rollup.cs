using DeliveryGrains.Hosting;

namespace DeliveryGrains.Deliveries;

/// <summary>
/// The top of the KPI rollup (R8): the partitions' latest counts, the published tracking figures
/// (R8.5) and Compute stats (R8.7), which takes every partition's recount as the truth.
/// </summary>
public sealed partial class DeliveryGrain
{
    public async Task<Kpis> ComputeStatsAsync(Caller caller)
    {
        Require(caller, Roles.PrepareDeliveries, "Compute stats");
        _ = Definition;
        foreach (var run in S.Runs)
        {
            // Each run recounts and reports to this template before answering.
            await GrainFactory.GetGrain<IDeliveryGrain>(run.DeliveryId).ComputeStatsAsync(caller);
        }

        if (S.PartitionCount > 0)
        {
            // A recount is what the partition stores now: it replaces whatever was reported before, however
            // that report was numbered (R8.7 repairs drift); later flushes are numbered after it.
            await Bounded.ForEachAsync(Enumerable.Range(0, S.PartitionCount), Options.PartitionsInFlight, async p =>
                Take(p, await Partition(p).RecountAsync(), recount: true));
        }

        PublishTracking();
        await Writer.SaveAsync();
        await ReportToTemplateAsync();
        return Kpis();
    }

    public Task ReportPartitionCountsAsync(int partition, PartitionCounts counts)
    {
        if ((uint)partition < (uint)S.PartitionCount)
        {
            Take(partition, counts);
        }

        return Task.CompletedTask;
    }

    private void Take(int partition, PartitionCounts counts, bool recount = false)
    {
        if (recount || counts.Version >= S.Partitions[partition].Version)
        {
            S.Partitions[partition] = counts;
            S.CountsAt = time.GetUtcNow();
            _countsUnsaved = true;
            MarkRunReportDirty();
            SettleIfAllRelayed();
        }
    }

    private async Task SaveCountsAsync(CancellationToken cancellationToken)
    {
        if (_countsUnsaved)
        {
            _countsUnsaved = false;
            await Writer.SaveAsync();
        }

        if (_runReportDirty && !departure.IsLeaving)
        {
            await ReportToTemplateAsync();
        }
    }

    private Task PublishTrackingAsync(CancellationToken cancellationToken)
    {
        if (!IsRunning)
        {
            return Task.CompletedTask;
        }

        PublishTracking();
        return SaveCountsAsync(cancellationToken);
    }

    /// <summary>R8.5: open and click figures move only when published.</summary>
    private void PublishTracking()
    {
        var sum = PartitionCounts.Sum(S.Partitions);
        var efs = S.Definition?.EmailFeedbackService ?? false;
        S.PublishedOpens = sum.Opens(efs);
        S.PublishedClicks = sum.Clicks(efs);
        _countsUnsaved = true;
    }

    private Kpis Kpis()
    {
        if (IsTemplate)
        {
            return RunKpis(S.Runs);
        }

        var tracked = Definition.Channel == Channel.Email;
        return PartitionCounts.Sum(S.Partitions).ToKpis(
            Definition.EmailFeedbackService,
            tracked ? S.PublishedOpens : 0,
            tracked ? S.PublishedClicks : 0,
            S.CountsAt ?? S.CreatedAt);
    }
}
