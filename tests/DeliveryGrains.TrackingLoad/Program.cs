using DeliveryGrains.TrackingLoad;

return await TrackingLoad.RunAsync(args);
