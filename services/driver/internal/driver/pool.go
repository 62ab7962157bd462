package driver

// DefaultPool returns the drivers a new installation starts with, all free.
// Jarda comes first.
func DefaultPool() []Driver {
	return []Driver{
		{ID: "jarda", Name: "Jarda", Car: Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"}, Position: Position{Lat: 50.0755, Lon: 14.4378}, Status: StatusFree},
		{ID: "petra", Name: "Petra", Car: Car{Make: "Skoda", Model: "Octavia", Color: "white", Plate: "2AC 4411"}, Position: Position{Lat: 50.0870, Lon: 14.4208}, Status: StatusFree},
		{ID: "tomas", Name: "Tomas", Car: Car{Make: "Hyundai", Model: "i30", Color: "grey", Plate: "3AD 1290"}, Position: Position{Lat: 50.1030, Lon: 14.3920}, Status: StatusFree},
		{ID: "eva", Name: "Eva", Car: Car{Make: "Kia", Model: "Ceed", Color: "red", Plate: "4AE 7763"}, Position: Position{Lat: 50.0600, Lon: 14.4600}, Status: StatusFree},
		{ID: "marek", Name: "Marek", Car: Car{Make: "Volkswagen", Model: "Passat", Color: "black", Plate: "5AF 3057"}, Position: Position{Lat: 50.0950, Lon: 14.4700}, Status: StatusFree},
	}
}
